-- The outbox tables on MariaDB 10.6+ and MySQL 8.0+, in their present form: the PostgreSQL scripts reached it in
-- several steps. ${outbox_table} is replaced with the configured table name (outbox.table, default outbox_event).
-- Topics, keys and consumers compare byte for byte, as Kafka's do, and without padding (${binary_collation}:
-- utf8mb4_nopad_bin on MariaDB, utf8mb4_0900_bin on MySQL), so that 'k' and 'k ' are two keys. Times are DATETIME(6)
-- in UTC: no time zone of a session or a client shifts them, and they do not end in 2038 as TIMESTAMP does.

-- The outbox: one row per event, written in the business transaction and deleted once Kafka acknowledged it.
CREATE TABLE ${outbox_table} (
    -- The order of the events: records of one key are published in id order.
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- Sent as the Kafka header outbox-event-id, for consumer-side de-duplication.
    event_id        CHAR(36)     CHARACTER SET ascii NOT NULL,
    topic           VARCHAR(249) CHARACTER SET utf8mb4 COLLATE ${binary_collation} NOT NULL,
    -- The Kafka record key and the unit of ordering; NULL for events without a key.
    record_key      TEXT         CHARACTER SET utf8mb4 COLLATE ${binary_collation},
    event_type      VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
    -- NULL is a tombstone: the Kafka record's value is null.
    payload         LONGBLOB,
    -- Extra Kafka headers as a JSON object of strings.
    headers         JSON         NOT NULL,
    created_at      DATETIME(6)  NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    -- Retry state: failed sends, when the row may be claimed again (NULL: at once), and why it failed last.
    attempts        INT          NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6)  NULL,
    last_error      TEXT         CHARACTER SET utf8mb4,
    -- A hash of the topic and key of a row that has a retry time, NULL for the others: computed, never stored.
    retry_key_hash  INT UNSIGNED AS (IF(next_attempt_at IS NULL, NULL, CRC32(CONCAT(topic, ' ', record_key)))) VIRTUAL,
    CONSTRAINT ${outbox_table}_event_id_key UNIQUE (event_id),
    -- PostgreSQL's partial index over the rows that wait for a retry, as well as these databases allow: every row
    -- has an entry, NULL for the rows that never failed. "Does any row wait for its retry?" is answered at the first
    -- entry past the NULLs, and "does an earlier row of this topic and key wait?" by a look-up of its hash, however
    -- many rows of other keys wait (during a broker outage, say).
    INDEX ${outbox_table}_retry_idx (retry_key_hash, id)
) ENGINE = InnoDB;

-- Events that exhausted their attempts or can never be published, with their last error. A dead letter keeps the
-- id it had in the outbox, so that a requeued event takes its old place in its key's order.
CREATE TABLE ${outbox_table}_dead_letter (
    id               BIGINT       NOT NULL PRIMARY KEY,
    event_id         CHAR(36)     CHARACTER SET ascii NOT NULL,
    topic            VARCHAR(249) CHARACTER SET utf8mb4 COLLATE ${binary_collation} NOT NULL,
    record_key       TEXT         CHARACTER SET utf8mb4 COLLATE ${binary_collation},
    event_type       VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL,
    payload          LONGBLOB,
    headers          JSON         NOT NULL,
    -- Written from the outbox row.
    created_at       DATETIME(6)  NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    attempts         INT          NOT NULL,
    last_error       TEXT         CHARACTER SET utf8mb4 NOT NULL,
    dead_lettered_at DATETIME(6)  NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    CONSTRAINT ${outbox_table}_dead_letter_event_id_key UNIQUE (event_id),
    -- "Is this key parked?" is one index probe in every claim.
    INDEX ${outbox_table}_dead_letter_key_idx (topic, record_key(255), id)
) ENGINE = InnoDB;

-- Event ids each consumer has processed, written in the consumer's own transaction, purged after a retention.
CREATE TABLE ${outbox_table}_processed (
    consumer     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE ${binary_collation} NOT NULL,
    event_id     CHAR(36)     CHARACTER SET ascii NOT NULL,
    processed_at DATETIME(6)  NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    PRIMARY KEY (consumer, event_id),
    INDEX ${outbox_table}_processed_at_idx (processed_at)
) ENGINE = InnoDB;

-- Writers of one topic and key take turns until they commit by locking the row of its hash here, as PostgreSQL's
-- transaction-scoped advisory locks do there. The rows exist from the start, so that a lock is always on one record,
-- never on a gap.
CREATE TABLE ${outbox_table}_key_lock (
    bucket INT NOT NULL PRIMARY KEY
) ENGINE = InnoDB;

INSERT INTO ${outbox_table}_key_lock (bucket)
WITH digits (i) AS (
    SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5
    UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 UNION ALL SELECT 10
    UNION ALL SELECT 11 UNION ALL SELECT 12 UNION ALL SELECT 13 UNION ALL SELECT 14 UNION ALL SELECT 15
)
SELECT a.i + 16 * b.i + 256 * c.i + 4096 * d.i FROM digits a, digits b, digits c, digits d;

-- The relays' cycle slots (outbox.relay.table-concurrency, at most 1024): a cycle holds the lock on one row for as
-- long as its transaction lasts.
CREATE TABLE ${outbox_table}_cycle_slot (
    slot INT NOT NULL PRIMARY KEY
) ENGINE = InnoDB;

INSERT INTO ${outbox_table}_cycle_slot (slot)
SELECT bucket FROM ${outbox_table}_key_lock WHERE bucket < 1024;
