-- Events that exhausted their attempts or can never be published, with their last error. A dead letter keeps the
-- id it had in the outbox, so that a requeued event takes its old place in its key's order.
CREATE TABLE ${outbox_table}_dead_letter (
    id               bigint      PRIMARY KEY,
    event_id         uuid        NOT NULL,
    topic            text        NOT NULL,
    record_key       text,
    event_type       text        NOT NULL,
    payload          bytea,
    headers          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL,
    attempts         integer     NOT NULL,
    last_error       text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ${outbox_table}_dead_letter_event_id_key UNIQUE (event_id)
);

-- "Is this key parked?" is one index probe in every claim.
CREATE INDEX ${outbox_table}_dead_letter_key_idx ON ${outbox_table}_dead_letter (record_key);

-- Event ids a consumer has processed, written in the consumer's own transaction, purged after a retention.
CREATE TABLE ${outbox_table}_processed (
    event_id     uuid        PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ${outbox_table}_processed_at_idx ON ${outbox_table}_processed (processed_at);
