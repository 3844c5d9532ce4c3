package dev.txoutbox.store;

/**
 * The outbox SQL for PostgreSQL: {@code FOR UPDATE SKIP LOCKED} claims, array parameters, and wake-ups through
 * {@code LISTEN}/{@code NOTIFY}.
 */
final class PostgresDialect implements OutboxDialect {

    private static final String COLUMNS = "id, event_id, topic, record_key, event_type, payload, headers, created_at";

    @Override
    public String productName() {
        return "PostgreSQL";
    }

    @Override
    public int minimumMajorVersion() {
        // plan_cache_mode, see startCycle().
        return 12;
    }

    @Override
    public String migrationLocation() {
        return "classpath:db/outbox/postgresql";
    }

    @Override
    public String insert(TableName table) {
        // A transaction-scoped advisory lock on the key makes writers of one key take turns until they commit, so
        // that a key's ids are in the commit order of its transactions, and the relay never sees a later id of a key
        // committed while an earlier one is still in flight.
        return """
                WITH key_lock AS (
                    SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) WHERE ?::text IS NOT NULL
                )
                INSERT INTO %s (event_id, topic, record_key, event_type, payload, headers)
                SELECT ?, ?, ?, ?, ?, ?::jsonb FROM (SELECT count(*) FROM key_lock) AS locked
                """.formatted(table);
    }

    @Override
    public String claim(TableName table, boolean parkKeys) {
        // Rows whose key is held back are left out before the LIMIT, so that they can never fill a batch and starve
        // the other keys: a key waits while an earlier row of it waits for its retry, and, when keys are parked,
        // while it has a dead letter. What only the claim itself reveals, an earlier row of a key that another relay
        // holds right now, comes from the second part: the claimable rows up to the last one claimed, read in the
        // same snapshot through the primary key. Those that this claim did not take are held elsewhere. That is one
        // ordered range scan over the rows in flight, where a probe of the key index per claimed row would touch a
        // random index page for each of them. Both held-back checks first ask once whether any row has a retry
        // time and whether there is any dead letter at all: usually neither, and then no row is probed for its key.
        // The first question is put so that only the small index of rows with a retry time can answer it cheaply,
        // also while the table has no statistics (a new table, until autovacuum analyzes it): asked as "does any
        // row wait?", it was answered with a sequential scan of the whole table in every claim.
        return """
                WITH claimed AS (
                    SELECT o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers, o.created_at,
                           o.attempts
                    FROM %1$s o
                    WHERE %2$s
                      AND ((SELECT r.id FROM %1$s r WHERE r.next_attempt_at IS NOT NULL ORDER BY r.record_key, r.id
                            LIMIT 1) IS NULL
                           OR NOT EXISTS (
                               SELECT 1 FROM %1$s w
                               WHERE w.record_key = o.record_key AND w.id < o.id AND w.next_attempt_at > now()))
                    ORDER BY o.id
                    LIMIT ?
                    FOR UPDATE OF o SKIP LOCKED
                ),
                earlier AS (
                    SELECT o.id, o.record_key
                    FROM %1$s o
                    WHERE o.id < (SELECT max(id) FROM claimed) AND o.record_key IS NOT NULL AND %2$s
                    ORDER BY o.id
                    LIMIT %3$d
                )
                SELECT c.id, c.event_id, c.topic, c.record_key, c.event_type, c.payload, c.headers::text AS headers,
                       c.created_at, c.attempts, extract(epoch FROM clock_timestamp() - c.created_at) AS age_seconds,
                       true AS claimed
                FROM claimed c
                UNION ALL
                SELECT e.id, NULL, NULL, e.record_key, NULL, NULL, NULL, NULL, NULL, NULL, false
                FROM earlier e
                """.formatted(table, claimable(table, parkKeys), CLAIM_LOOK_BEHIND);
    }

    @Override
    public String startCycle() {
        // After five executions of a prepared statement, PostgreSQL may switch to a generic plan and keep it until
        // the table's statistics change. Made while the table was empty (right after a vacuum truncated it, say),
        // such a plan read the table with sequential scans, one for each row of the claim once rows piled up: a
        // backlog of 14,000 rows took 37 s to claim. Planning every cycle anew avoids that, but costs the server 0.3
        // to 0.6 ms per cycle, a quarter of a small cycle's claim. With sequential and bitmap scans off, the only
        // plans left read the outbox table through its indexes, in id order, whatever its statistics say; so one
        // generic plan serves the table at any size, and the cycle plans nothing.
        //
        // A slot is a transaction-scoped advisory lock on the pair (hash of the table's oid, slot number), so that
        // slots end with the cycle's transaction however it ends, also when its connection dies; the oid tells
        // apart tables of one name in different schemas. The two-integer form keeps them apart from the writers'
        // locks on keys, which take the one-bigint form.
        return """
                SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
                       set_config('enable_seqscan', 'off', true),
                       set_config('enable_bitmapscan', 'off', true),
                       (SELECT s FROM generate_series(0, ?::int - 1) AS s
                        WHERE pg_try_advisory_xact_lock(hashtext('outbox relay cycle ' || ?::regclass::oid), s)
                        LIMIT 1) AS slot
                """;
    }

    @Override
    public String delete(TableName table) {
        return "DELETE FROM %s WHERE id = ANY(?)".formatted(table);
    }

    @Override
    public String recordFailures(TableName table) {
        return """
                UPDATE %s AS o
                SET attempts = o.attempts + 1,
                    next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
                    last_error = f.error
                FROM unnest(?::bigint[], ?::bigint[], ?::text[]) AS f(id, delay_ms, error)
                WHERE o.id = f.id
                """.formatted(table);
    }

    @Override
    public String deadLetter(TableName table) {
        return """
                WITH failed AS (SELECT * FROM unnest(?::bigint[], ?::text[]) AS f(id, error)),
                moved AS (
                    DELETE FROM %1$s o USING failed f WHERE o.id = f.id
                    RETURNING o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers,
                              o.created_at, o.attempts, f.error
                )
                INSERT INTO %2$s (%3$s, attempts, last_error)
                SELECT %3$s, attempts + 1, error FROM moved
                """.formatted(table, table.deadLetters(), COLUMNS);
    }

    @Override
    public String vacuum(TableName table) {
        // No truncation of empty pages at the table's end: it takes an ACCESS EXCLUSIVE lock, which would stall
        // the writers' inserts for a moment at every vacuum; autovacuum still truncates now and then.
        return "VACUUM (SKIP_LOCKED, TRUNCATE false) %s".formatted(table);
    }

    @Override
    public String count(TableName table) {
        return "SELECT count(*) FROM %s".formatted(table);
    }

    @Override
    public String statistics(TableName table, boolean parkKeys) {
        // The lag is the age of the oldest row the relay could publish now: rows that wait for a retry, or behind a
        // parked key, are counted as waiting but do not make the relay look behind.
        return """
                SELECT (SELECT count(*) FROM %1$s) AS waiting,
                       (SELECT o.created_at FROM %1$s o WHERE %3$s ORDER BY o.id LIMIT 1) AS oldest,
                       (SELECT count(*) FROM %2$s) AS dead_letters,
                       (SELECT count(DISTINCT record_key) FROM %2$s) AS parked_keys,
                       clock_timestamp() AS read_at
                """.formatted(table, table.deadLetters(), claimable(table, parkKeys));
    }

    @Override
    public String listDeadLetters(TableName table) {
        return """
                SELECT id, event_id, topic, record_key, event_type, attempts, last_error, created_at, dead_lettered_at
                FROM %s
                ORDER BY id
                LIMIT ?
                """.formatted(table.deadLetters());
    }

    @Override
    public String requeueDeadLetter(TableName table) {
        return """
                WITH moved AS (DELETE FROM %2$s WHERE id = ? RETURNING %3$s, last_error)
                INSERT INTO %1$s (%3$s, attempts, last_error)
                OVERRIDING SYSTEM VALUE
                SELECT %3$s, 0, last_error FROM moved
                """.formatted(table, table.deadLetters(), COLUMNS);
    }

    @Override
    public String discardDeadLetter(TableName table) {
        return "DELETE FROM %s WHERE id = ?".formatted(table.deadLetters());
    }

    @Override
    public String markProcessed(TableName table) {
        return "INSERT INTO %s (event_id) VALUES (?) ON CONFLICT DO NOTHING".formatted(table.processed());
    }

    @Override
    public String purgeProcessed(TableName table) {
        return """
                DELETE FROM %1$s WHERE event_id IN (
                    SELECT event_id FROM %1$s
                    WHERE processed_at < now() - ? * interval '1 millisecond'
                    LIMIT ?)
                """.formatted(table.processed());
    }

    @Override
    public String notifyWakeUp(TableName table) {
        return "SELECT pg_notify('%s', ?)".formatted(wakeUpChannel(table));
    }

    @Override
    public String listenForWakeUps(TableName table) {
        return "LISTEN " + wakeUpChannel(table);
    }

    @Override
    public String unlistenWakeUps(TableName table) {
        return "UNLISTEN " + wakeUpChannel(table);
    }

    /**
     * The notification channel of a table. Channels belong to the database, not to a schema, so each table has its
     * own, and two outbox tables never wake each other's relays. An outbox table's name is short enough for its
     * dead-letter table's, so the channel, with a shorter suffix, fits PostgreSQL's 63 characters too.
     */
    private static String wakeUpChannel(TableName table) {
        return table + "_wake_up";
    }

    /**
     * The condition that row {@code o} may be claimed now, as far as the row itself and its key's dead letters tell:
     * it does not wait for a retry, and, when keys are parked, its key has no dead letter.
     */
    private static String claimable(TableName table, boolean parkKeys) {
        String due = "(o.next_attempt_at IS NULL OR o.next_attempt_at <= now())";
        return parkKeys
                ? due
                        + (" AND (NOT EXISTS (SELECT 1 FROM %1$s)"
                                        + " OR NOT EXISTS (SELECT 1 FROM %1$s d WHERE d.record_key = o.record_key))")
                                .formatted(table.deadLetters())
                : due;
    }
}
