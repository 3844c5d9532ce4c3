-- The unit of order is the topic and the key: Kafka orders nothing across topics, so a row waiting for its retry, or
-- a dead letter, holds back the later rows of its key in its own topic only. The statements that ask for them look
-- them up by (topic, record_key, id); these indexes answer that in one probe. They keep their names.
DROP INDEX ${outbox_table}_retry_key_id_idx;
CREATE INDEX ${outbox_table}_retry_key_id_idx ON ${outbox_table} (topic, record_key, id)
    WHERE next_attempt_at IS NOT NULL;

DROP INDEX ${outbox_table}_dead_letter_key_idx;
CREATE INDEX ${outbox_table}_dead_letter_key_idx ON ${outbox_table}_dead_letter (topic, record_key, id);
