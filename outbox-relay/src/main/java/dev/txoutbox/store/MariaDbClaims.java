package dev.txoutbox.store;

import static dev.txoutbox.store.OutboxDialect.CLAIM_LOOK_BEHIND;

/**
 * The claim of {@link MariaDbDialect}, its look-behind and the condition that a row may be claimed: which rows a
 * relay's cycle may publish now without breaking the order of their keys, on MariaDB and MySQL.
 */
final class MariaDbClaims {

    private MariaDbClaims() {}

    /** See {@link OutboxDialect#claim(TableName, boolean)}. */
    static String claim(TableName table, boolean parkKeys) {
        // The locking read is a derived table: a window cannot go with FOR UPDATE in one SELECT, and a window over
        // the rows before the LIMIT would read, and lock, every claimable row. The rows past the byte budget stay
        // locked for the cycle but come without payload and headers, as on PostgreSQL.
        //
        // The rows that this claim could have taken come from lookBehind(), in a statement of their own: a locking
        // read sees the newest committed rows, while a plain read in the same statement sees those committed when
        // the statement began, and would miss an earlier row of a key that another relay claimed in between.
        return """
                SELECT b.id, b.event_id, b.topic, b.record_key, b.event_type,
                       CASE WHEN b.in_budget THEN b.payload END AS payload,
                       CASE WHEN b.in_budget THEN b.headers END AS headers,
                       b.created_micros, b.attempts, b.age_seconds, TRUE AS claimed, b.in_budget
                FROM (
                    SELECT c.*,
                           (row_number() OVER w = 1
                            OR sum(coalesce(length(c.payload), 0) + coalesce(length(c.record_key), 0)
                                   + length(c.headers)) OVER w <= :maxBytes) AS in_budget
                    FROM (
                        SELECT o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers,
                               %3$s AS created_micros, o.attempts,
                               TIMESTAMPDIFF(MICROSECOND, o.created_at, UTC_TIMESTAMP(6)) / 1000000 AS age_seconds
                        FROM %1$s o FORCE INDEX (PRIMARY)
                        WHERE %2$s
                        ORDER BY o.id
                        LIMIT :limit
                        FOR UPDATE SKIP LOCKED
                    ) AS c
                    WINDOW w AS (ORDER BY c.id)
                ) AS b
                ORDER BY b.id
                """.formatted(table, claimable(table, parkKeys), MariaDbDialect.micros("o.created_at"));
    }

    /** See {@link OutboxDialect#lookBehind(TableName, boolean)}. */
    static String lookBehind(TableName table, boolean parkKeys) {
        // A plain read at READ COMMITTED sees what was committed when it began, after the claim: every row the claim
        // saw, and those that other transactions hold. But also what they committed since the claim: an earlier row
        // of a claimed key that another relay held then, and has since recorded as failed or moved to the dead
        // letters, is no longer one that a claim could take, yet must hold its key back. Those rows come from the
        // claimed rows' topics and keys (the ids :ids), through the indexes of waiting rows and of dead letters,
        // which hold few rows per key. Past a full window the claimed rows wait anyway: such rows beyond it are left
        // out, so as not to extend it.
        String deadLetters = !parkKeys ? "" : """
                UNION ALL
                SELECT DISTINCT d.id, NULL, d.topic, d.record_key, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE
                FROM claimed c
                    STRAIGHT_JOIN %1$s d FORCE INDEX (%2$s)
                    ON d.topic = c.topic AND d.record_key = c.record_key AND d.id < c.id
                WHERE d.id <= (SELECT last_id FROM window_bound)
                """.formatted(table.deadLetters(), table.deadLetters() + "_key_idx");
        return """
                WITH behind AS (
                    SELECT o.id, o.topic, o.record_key
                    FROM %1$s o FORCE INDEX (PRIMARY)
                    WHERE o.id < :lastId AND o.record_key IS NOT NULL AND %2$s
                    ORDER BY o.id
                    LIMIT %3$d
                ),
                window_bound AS (
                    SELECT CASE WHEN count(*) < %3$d THEN :lastId ELSE max(id) END AS last_id FROM behind
                ),
                claimed AS (
                    SELECT c.id, c.topic, c.record_key
                    FROM %4$s STRAIGHT_JOIN %1$s c FORCE INDEX (PRIMARY) ON c.id = f.id
                    WHERE c.record_key IS NOT NULL
                )
                SELECT b.id, NULL AS event_id, b.topic, b.record_key, NULL AS event_type, NULL AS payload,
                       NULL AS headers, NULL AS created_micros, NULL AS attempts, NULL AS age_seconds,
                       FALSE AS claimed, FALSE AS in_budget
                FROM behind b
                UNION ALL
                SELECT DISTINCT w.id, NULL, w.topic, w.record_key, NULL, NULL, NULL, NULL, NULL, NULL, FALSE, FALSE
                FROM claimed c
                    STRAIGHT_JOIN %1$s w FORCE INDEX (%5$s)
                    ON %7$s AND w.id < c.id AND w.next_attempt_at > UTC_TIMESTAMP(6)
                WHERE w.id <= (SELECT last_id FROM window_bound)
                %6$s""".formatted(
                        table,
                        claimable(table, parkKeys),
                        CLAIM_LOOK_BEHIND,
                        MariaDbDialect.ids(":ids"),
                        table + "_retry_idx",
                        deadLetters,
                        waitingOfKey("w", "c"));
    }

    /**
     * The condition that row {@code waiting} has a retry time and the topic and key of row {@code of}, looked up by
     * their hash in the retry index.
     */
    private static String waitingOfKey(String waiting, String of) {
        return "%1$s.retry_key_hash = CRC32(CONCAT(%2$s.topic, ' ', %2$s.record_key)) AND %1$s.topic = %2$s.topic AND %1$s.record_key = %2$s.record_key"
                .formatted(waiting, of);
    }

    /**
     * The condition that row {@code o} may be claimed now, as on PostgreSQL. Each key check first asks once whether
     * any row waits for a retry, any dead letter exists at all, through an index that answers at its first entry.
     */
    static String claimable(TableName table, boolean parkKeys) {
        String due = """
                (o.next_attempt_at IS NULL OR o.next_attempt_at <= UTC_TIMESTAMP(6))
                      AND (NOT EXISTS (SELECT 1 FROM %1$s r FORCE INDEX (%2$s) WHERE r.retry_key_hash IS NOT NULL)
                           OR NOT EXISTS (
                               SELECT 1 FROM %1$s w FORCE INDEX (%2$s)
                               WHERE %3$s AND w.id < o.id AND w.next_attempt_at > UTC_TIMESTAMP(6)))""".formatted(table, table + "_retry_idx", waitingOfKey("w", "o"));
        if (!parkKeys) {
            return due;
        }
        return due + """

                      AND (NOT EXISTS (SELECT 1 FROM %1$s)
                           OR NOT EXISTS (SELECT 1 FROM %1$s d FORCE INDEX (%2$s)
                                          WHERE d.topic = o.topic AND d.record_key = o.record_key))""".formatted(table.deadLetters(), table.deadLetters() + "_key_idx");
    }
}
