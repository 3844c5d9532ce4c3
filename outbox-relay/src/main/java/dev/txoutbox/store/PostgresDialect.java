package dev.txoutbox.store;

import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.support.SqlArrayValue;

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
        // A transaction-scoped advisory lock on the topic and key makes writers of one key of a topic take turns
        // until they commit, so that its ids are in the commit order of its transactions, and the relay never sees
        // a later id of a key committed while an earlier one is still in flight. Kafka orders nothing across topics,
        // so writers of one key in two topics do not wait for each other. Topic names cannot contain a space, so
        // "topic key" names one pair only. The cycle slots take the two-integer form of advisory locks, which never
        // meets this one-bigint form.
        return """
                WITH key_lock AS (
                    SELECT pg_advisory_xact_lock(hashtextextended(k.name, 0))
                    FROM (SELECT :topic::text || ' ' || :key::text AS name) AS k
                    WHERE k.name IS NOT NULL
                )
                INSERT INTO %s (event_id, topic, record_key, event_type, payload, headers)
                SELECT :eventId, :topic, :key, :eventType, :payload, :headers::jsonb
                FROM (SELECT count(*) FROM key_lock) AS locked
                """.formatted(table);
    }

    @Override
    public String insertWithoutKeyLock(TableName table) {
        return """
                INSERT INTO %s (event_id, topic, record_key, event_type, payload, headers)
                VALUES (:eventId, :topic, :key, :eventType, :payload, :headers::jsonb)
                """.formatted(table);
    }

    @Override
    public @Nullable String lockKey(TableName table) {
        return null;
    }

    @Override
    public Object eventId(UUID eventId) {
        return eventId;
    }

    @Override
    public Object array(String elementType, Object[] values) {
        return new SqlArrayValue(elementType, values);
    }

    @Override
    public String claim(TableName table, boolean parkKeys) {
        // Rows whose key is held back are left out before the LIMIT, so that they can never fill a batch and starve
        // the other keys: a key (of a topic) waits while an earlier row of it waits for its retry, and, when keys are
        // parked, while it has a dead letter. What only the claim itself reveals, an earlier row of a key that
        // another relay holds right now, comes from the second part: the rows this claim could have taken up to the
        // last one claimed, read in the same snapshot through the primary key. Those that this claim did not take
        // are held elsewhere. That is one ordered range scan over the rows in flight, where a probe of the key index
        // per claimed row would touch a random index page for each of them. It reads only rows that a claim could
        // take, never those behind a waiting key, so that however many of those pile up, they cannot fill its
        // window and hold back every other key.
        //
        // The claimed rows' sizes add up, in id order, in a window over the locked rows (a window cannot go with FOR
        // UPDATE in one SELECT): the rows past the byte budget stay locked for the cycle but come without payload
        // and headers. They are a suffix in id order, so leaving them out breaks no key's order.
        return """
                WITH claimed AS (
                    SELECT o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers::text AS headers,
                           o.created_at, o.attempts
                    FROM %1$s o
                    WHERE %2$s
                    ORDER BY o.id
                    LIMIT :limit
                    FOR UPDATE OF o SKIP LOCKED
                ),
                earlier AS (
                    SELECT o.id, o.topic, o.record_key
                    FROM %1$s o
                    WHERE o.id < (SELECT max(id) FROM claimed) AND o.record_key IS NOT NULL AND %2$s
                    ORDER BY o.id
                    LIMIT %3$d
                )
                SELECT b.id, b.event_id, b.topic, b.record_key, b.event_type,
                       CASE WHEN b.in_budget THEN b.payload END AS payload,
                       CASE WHEN b.in_budget THEN b.headers END AS headers,
                       %4$s AS created_micros, b.attempts,
                       extract(epoch FROM clock_timestamp() - b.created_at) AS age_seconds,
                       true AS claimed, b.in_budget
                FROM (
                    SELECT c.*,
                           row_number() OVER w = 1
                               OR sum(coalesce(octet_length(c.payload), 0) + coalesce(octet_length(c.record_key), 0)
                                      + octet_length(c.headers)) OVER w <= :maxBytes AS in_budget
                    FROM claimed c
                    WINDOW w AS (ORDER BY c.id)
                ) AS b
                UNION ALL
                SELECT e.id, NULL, e.topic, e.record_key, NULL, NULL, NULL, NULL, NULL, NULL, false, false
                FROM earlier e
                """.formatted(table, claimable(table, parkKeys), CLAIM_LOOK_BEHIND, micros("b.created_at"));
    }

    @Override
    public String claimIds(TableName table, boolean parkKeys) {
        // The ids come in commit order, which is the order to publish them in; the byte budget adds up in that order
        // too. An earlier row (by id) of a claimed row's topic and key that this claim did not take is one the log
        // gave before and that waits in the table (for its retry, behind a dead letter), or one that committed after
        // and comes later from the log: either way the claimed row waits for it, as in a polling claim. A probe of
        // the key index per claimed row: the rows come by id, not as a range.
        //
        // One exception to commit order: a row that was tried before (it has an error: requeued from the dead
        // letters, or sent again after a failure) was the first of its key when it was tried, and the key's rows that
        // waited behind it may have committed before it committed again (a requeued row keeps its id and commits
        // anew, after them). Such rows go first of their key in the claim, in id order, at the place of the key's
        // first row; the subquery that finds that place runs for them only.
        //
        // An id may come twice (a requeued row's, while the reader still holds it from its first commit): the
        // claim takes each row once.
        return """
                WITH wanted AS (
                    SELECT w.id, min(w.pos) AS pos FROM unnest(:ids::bigint[]) WITH ORDINALITY AS w(id, pos)
                    GROUP BY w.id
                ),
                claimed AS (
                    SELECT o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers::text AS headers,
                           o.created_at, o.attempts, o.last_error IS NOT NULL AS tried, w.pos
                    FROM %1$s o JOIN wanted w ON w.id = o.id
                    WHERE %2$s
                    FOR UPDATE OF o SKIP LOCKED
                ),
                placed AS (
                    SELECT c.*,
                           CASE WHEN c.tried AND c.record_key IS NOT NULL
                                THEN (SELECT min(k.pos) FROM claimed k
                                      WHERE k.topic = c.topic AND k.record_key = c.record_key)
                                ELSE c.pos END AS place
                    FROM claimed c
                )
                SELECT b.id, b.event_id, b.topic, b.record_key, b.event_type,
                       CASE WHEN b.in_budget THEN b.payload END AS payload,
                       CASE WHEN b.in_budget THEN b.headers END AS headers,
                       %3$s AS created_micros, b.attempts,
                       extract(epoch FROM clock_timestamp() - b.created_at) AS age_seconds,
                       b.record_key IS NULL OR NOT EXISTS (
                           SELECT 1 FROM %1$s e
                           WHERE e.topic = b.topic AND e.record_key = b.record_key AND e.id < b.id
                             AND e.id NOT IN (SELECT c.id FROM claimed c)
                       ) AS claimed,
                       b.in_budget
                FROM (
                    SELECT p.*,
                           row_number() OVER w = 1
                               OR sum(coalesce(octet_length(p.payload), 0) + coalesce(octet_length(p.record_key), 0)
                                      + octet_length(p.headers)) OVER w <= :maxBytes AS in_budget
                    FROM placed p
                    WINDOW w AS (ORDER BY p.place, p.tried DESC, p.id)
                ) AS b
                ORDER BY b.place, b.tried DESC, b.id
                """.formatted(table, claimable(table, parkKeys), micros("b.created_at"));
    }

    @Override
    public @Nullable String lookBehind(TableName table, boolean parkKeys) {
        return null;
    }

    @Override
    public String startCycle(TableName table) {
        // After five executions of a prepared statement, PostgreSQL may switch to a generic plan and keep it until
        // the table's statistics change. Made while the table was empty (right after a vacuum truncated it, say),
        // such a plan read the table with sequential scans, one for each row of the claim once rows piled up. Planning
        // every cycle anew avoids that, but costs the server a noticeable part of a small cycle's claim. With
        // sequential and bitmap scans off, the only plans left read the outbox table through its indexes, in id
        // order, whatever its statistics say; so one generic plan serves the table at any size, and the cycle plans
        // nothing.
        //
        // A server or a pooler may end sessions that stay idle in a transaction, or whose transaction lasts, longer
        // than a bound shorter than the wait for the broker's acknowledgements: the cycle's deletes would roll back
        // and the next cycle would send the same rows again. The cycle sets both bounds for its own transaction to
        // the relay's bound on it (the parameter, in milliseconds), for the settings the server has
        // (transaction_timeout came with PostgreSQL 17; current_setting with missing_ok tells, without reading
        // every setting as pg_settings would in every cycle). A transaction timeout that already runs is not moved by a
        // new value, only stopped by 0, so it is stopped first and started anew: the inner set_config, an argument of
        // the outer one, runs before it and adds nothing to its value.
        //
        // A slot is a transaction-scoped advisory lock on the pair (hash of the table's oid, slot number), so that
        // slots end with the cycle's transaction however it ends, also when its connection dies; the oid tells
        // apart tables of one name in different schemas. The two-integer form keeps them apart from the writers'
        // locks on keys, which take the one-bigint form.
        //
        // The transaction's isolation level comes back with the slot: the relay needs READ COMMITTED, and asking
        // the driver for it would cost a round trip of its own in every cycle.
        //
        // Unless the relay is asked to wait for its commits' flush, the transaction commits with
        // synchronous_commit=off, for this transaction only: at once, and the WAL writer flushes it shortly after.
        return """
                SELECT CASE WHEN :synchronousCommit THEN NULL ELSE set_config('synchronous_commit', 'off', true) END,
                       set_config('plan_cache_mode', 'force_generic_plan', true),
                       set_config('enable_seqscan', 'off', true),
                       set_config('enable_bitmapscan', 'off', true),
                       (SELECT count(set_config(s.name, t.ms || left(set_config(s.name, '0', true), 0), true))
                        FROM (VALUES ('idle_in_transaction_session_timeout'), ('transaction_timeout')) AS s(name),
                             (SELECT :timeoutMillis::bigint::text AS ms) AS t
                        WHERE current_setting(s.name, true) IS NOT NULL) AS timeouts,
                       current_setting('transaction_isolation') AS isolation,
                       (SELECT s FROM generate_series(0, :slots::int - 1) AS s
                        WHERE pg_try_advisory_xact_lock(hashtext('outbox relay cycle ' || :table::regclass::oid), s)
                        LIMIT 1) AS slot
                """;
    }

    @Override
    public boolean startCycleReportsIsolation() {
        return true;
    }

    @Override
    public @Nullable String waitForCommitFlush() {
        // DEFAULT is the value the session started with: the server's, the database's or the role's setting.
        return "SET LOCAL synchronous_commit TO DEFAULT";
    }

    @Override
    public String delete(TableName table) {
        return "DELETE FROM %s WHERE id = ANY(:ids)".formatted(table);
    }

    @Override
    public String lockUnlocked(TableName table) {
        return "SELECT id FROM %s WHERE id = ANY(:ids) FOR UPDATE SKIP LOCKED".formatted(table);
    }

    @Override
    public String recordFailures(TableName table) {
        return """
                UPDATE %s AS o
                SET attempts = o.attempts + 1,
                    next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
                    last_error = f.error
                FROM unnest(:ids::bigint[], :delays::bigint[], :errors::text[]) AS f(id, delay_ms, error)
                WHERE o.id = f.id
                """.formatted(table);
    }

    @Override
    public List<String> deadLetter(TableName table) {
        return List.of("""
                WITH failed AS (SELECT * FROM unnest(:ids::bigint[], :errors::text[]) AS f(id, error)),
                moved AS (
                    DELETE FROM %1$s o USING failed f WHERE o.id = f.id
                    RETURNING o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers,
                              o.created_at, o.attempts, f.error
                )
                INSERT INTO %2$s (%3$s, attempts, last_error)
                SELECT %3$s, attempts + 1, error FROM moved
                """.formatted(table, table.deadLetters(), COLUMNS));
    }

    @Override
    public @Nullable String vacuum(TableName table) {
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
        // key that waits for one, or behind a parked key, are counted as waiting but do not make the relay look
        // behind. Dead letters without a key hold back nothing.
        return """
                SELECT (SELECT count(*) FROM %1$s) AS waiting,
                       (SELECT %4$s FROM %1$s o WHERE %3$s ORDER BY o.id LIMIT 1) AS oldest_micros,
                       (SELECT count(*) FROM %2$s) AS dead_letters,
                       (SELECT count(*) FROM (SELECT DISTINCT topic, record_key FROM %2$s WHERE record_key IS NOT NULL)
                            AS k) AS parked_keys,
                       %5$s AS read_at_micros
                """.formatted(
                        table,
                        table.deadLetters(),
                        claimable(table, parkKeys),
                        micros("o.created_at"),
                        micros("clock_timestamp()"));
    }

    @Override
    public String listDeadLetters(TableName table) {
        return """
                SELECT id, event_id, topic, record_key, event_type, attempts, last_error, %2$s AS created_micros,
                       %3$s AS dead_lettered_micros
                FROM %1$s
                WHERE id > ?
                ORDER BY id
                LIMIT ?
                """.formatted(table.deadLetters(), micros("created_at"), micros("dead_lettered_at"));
    }

    @Override
    public String lockDeadLetters(TableName table) {
        return """
                SELECT id FROM %s
                WHERE (:topic::text IS NULL OR topic = :topic) AND (:key::text IS NULL OR record_key = :key)
                ORDER BY id
                FOR UPDATE
                """.formatted(table.deadLetters());
    }

    @Override
    public List<String> requeueDeadLetters(TableName table) {
        return List.of("""
                WITH moved AS (DELETE FROM %2$s WHERE id = ANY(:ids) RETURNING %3$s, last_error)
                INSERT INTO %1$s (%3$s, attempts, last_error)
                OVERRIDING SYSTEM VALUE
                SELECT %3$s, 0, last_error FROM moved
                """.formatted(table, table.deadLetters(), COLUMNS));
    }

    @Override
    public String discardDeadLetters(TableName table) {
        return "DELETE FROM %s WHERE id = ANY(:ids)".formatted(table.deadLetters());
    }

    @Override
    public String markProcessed(TableName table) {
        // Ids recorded before processed ids were kept per consumer have the consumer '' (see the migration): they
        // count as processed for every consumer, so that an upgrade processes no event twice.
        return """
                INSERT INTO %1$s (consumer, event_id)
                SELECT e.consumer, e.event_id FROM (SELECT ?::text AS consumer, ?::uuid AS event_id) AS e
                WHERE NOT EXISTS (SELECT 1 FROM %1$s p WHERE p.consumer = '' AND p.event_id = e.event_id)
                ON CONFLICT DO NOTHING
                """.formatted(table.processed());
    }

    @Override
    public String purgeProcessed(TableName table) {
        return """
                DELETE FROM %1$s WHERE (consumer, event_id) IN (
                    SELECT consumer, event_id FROM %1$s
                    WHERE processed_at < now() - ? * interval '1 millisecond'
                    LIMIT ?)
                """.formatted(table.processed());
    }

    @Override
    public boolean wakesOtherInstances() {
        return true;
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

    /** A time as microseconds since the epoch, as the statements return times. */
    private static String micros(String time) {
        return "(extract(epoch FROM %s) * 1000000)::bigint".formatted(time);
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
     * The condition that row {@code o} may be claimed now: it does not wait for a retry, no earlier row of its topic
     * and key waits for one, and, when keys are parked, its topic and key have no dead letter. Each key check first
     * asks once whether there is any row with a retry time, any dead letter at all: usually not, and then no row is
     * probed for its key. The first question is put so that only the small index of rows with a retry time can
     * answer it cheaply, also while the table has no statistics (a new table, until autovacuum analyzes it): asked as
     * "does any row wait?", it was answered with a sequential scan of the whole table in every claim.
     */
    private static String claimable(TableName table, boolean parkKeys) {
        String due = """
                (o.next_attempt_at IS NULL OR o.next_attempt_at <= now())
                      AND ((SELECT r.id FROM %1$s r WHERE r.next_attempt_at IS NOT NULL
                            ORDER BY r.topic, r.record_key, r.id LIMIT 1) IS NULL
                           OR NOT EXISTS (
                               SELECT 1 FROM %1$s w
                               WHERE w.topic = o.topic AND w.record_key = o.record_key AND w.id < o.id
                                 AND w.next_attempt_at > now()))""".formatted(table);
        if (!parkKeys) {
            return due;
        }
        return due + """

                      AND (NOT EXISTS (SELECT 1 FROM %1$s)
                           OR NOT EXISTS (SELECT 1 FROM %1$s d WHERE d.topic = o.topic AND d.record_key = o.record_key))""".formatted(table.deadLetters());
    }
}
