-- "Does an earlier row of this key wait for its retry?" is asked for every candidate of a claim. Rows that failed
-- at least once are few, so a partial index over them answers it cheaply.
CREATE INDEX ${outbox_table}_retry_key_id_idx ON ${outbox_table} (record_key, id) WHERE next_attempt_at IS NOT NULL;
