-- The outbox: one row per event, written in the business transaction and deleted once Kafka acknowledged it.
-- ${outbox_table} is replaced with the configured table name (outbox.table, default outbox_event).
CREATE TABLE ${outbox_table} (
    -- The order of the events: records of one key are published in id order.
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Sent as the Kafka header outbox-event-id, for consumer-side de-duplication.
    event_id        uuid        NOT NULL,
    topic           text        NOT NULL,
    -- The Kafka record key and the unit of ordering; NULL for events without a key.
    record_key      text,
    event_type      text        NOT NULL,
    -- NULL is a tombstone: the Kafka record's value is null.
    payload         bytea,
    -- Extra Kafka headers as a JSON object of strings.
    headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Retry state: failed sends, when the row may be claimed again (NULL: at once), and why it failed last.
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text,
    CONSTRAINT ${outbox_table}_event_id_key UNIQUE (event_id)
);

-- "The earliest waiting row of a key" is one index probe.
CREATE INDEX ${outbox_table}_key_id_idx ON ${outbox_table} (record_key, id);
