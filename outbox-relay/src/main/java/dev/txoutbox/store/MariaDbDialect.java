package dev.txoutbox.store;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

/**
 * The outbox SQL for MariaDB 10.6+ and MySQL 8.0+, which share it: {@code FOR UPDATE SKIP LOCKED} claims, array
 * parameters as JSON arrays read with {@code JSON_TABLE}, and, for what PostgreSQL's advisory locks do there, rows of
 * two small tables of their own (see the migrations): key locks and cycle slots are row locks, held until the
 * transaction ends, also when its connection dies. Neither database has a notification between sessions, nor needs a
 * vacuum: the relays of other instances find new rows at their next poll, and InnoDB purges deleted rows itself.
 *
 * <p>A relay's cycle runs at {@code READ COMMITTED} (see {@code CycleTransaction}): at {@code REPEATABLE READ}, the
 * default of both, its locking claim would lock the gaps between index records too, and hold off the writers' inserts
 * at the table's end until it commits.
 */
final class MariaDbDialect implements OutboxDialect {

    /** How many key-lock rows there are: topics and keys share them by hash. */
    static final int KEY_LOCKS = 65_536;

    private static final String COLUMNS =
            "id, event_id, topic, record_key, event_type, payload, headers, created_at, attempts";

    private final String productName;

    private final int minimumMajorVersion;

    private final int minimumMinorVersion;

    private final int minimumPatchVersion;

    private final String binaryCollation;

    private final JsonMapper json = JsonMapper.builder().build();

    private MariaDbDialect(
            String productName,
            int minimumMajorVersion,
            int minimumMinorVersion,
            int minimumPatchVersion,
            String binaryCollation) {
        this.productName = productName;
        this.minimumMajorVersion = minimumMajorVersion;
        this.minimumMinorVersion = minimumMinorVersion;
        this.minimumPatchVersion = minimumPatchVersion;
        this.binaryCollation = binaryCollation;
    }

    /** MariaDB: SKIP LOCKED came with 10.6; JSON_TABLE too. */
    static MariaDbDialect mariaDb() {
        return new MariaDbDialect("MariaDB", 10, 6, 0, "utf8mb4_nopad_bin");
    }

    /**
     * MySQL: SKIP LOCKED came with 8.0.1, JSON_TABLE with 8.0.4, and the binary collation that does not pad with
     * spaces (utf8mb4_0900_bin) with 8.0.17.
     */
    static MariaDbDialect mySql() {
        return new MariaDbDialect("MySQL", 8, 0, 17, "utf8mb4_0900_bin");
    }

    @Override
    public String productName() {
        return this.productName;
    }

    @Override
    public int minimumMajorVersion() {
        return this.minimumMajorVersion;
    }

    @Override
    public int minimumMinorVersion() {
        return this.minimumMinorVersion;
    }

    @Override
    public int minimumPatchVersion() {
        return this.minimumPatchVersion;
    }

    @Override
    public boolean markProcessedFailsOnDuplicate() {
        return true;
    }

    @Override
    public String migrationLocation() {
        return "classpath:db/outbox/mariadb";
    }

    @Override
    public Map<String, String> migrationPlaceholders() {
        return Map.of("binary_collation", this.binaryCollation);
    }

    @Override
    public String insert(TableName table) {
        return """
                INSERT INTO %s (event_id, topic, record_key, event_type, payload, headers)
                VALUES (:eventId, :topic, :key, :eventType, :payload, :headers)
                """.formatted(table);
    }

    @Override
    public String lockKey(TableName table) {
        // The row lock on the topic's and key's row of the key-lock table makes writers of one key of a topic take
        // turns until they commit, as PostgreSQL's advisory lock does: the id comes with the insert after it, so the
        // ids of a key follow the commit order of its transactions. An equality lookup of an existing primary key
        // locks that record only, at any isolation level, never a gap. Keys that share a row by hash wait for each
        // other too, which costs time, never order.
        return """
                SELECT k.bucket FROM %s k
                WHERE k.bucket = CRC32(CONCAT(:topic, ' ', :key)) %% %d
                FOR UPDATE
                """.formatted(table.keyLocks(), KEY_LOCKS);
    }

    @Override
    public Object keyLock(String topic, String key) {
        CRC32 crc = new CRC32();
        crc.update((topic + " " + key).getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % KEY_LOCKS);
    }

    @Override
    public Object eventId(UUID eventId) {
        return eventId.toString();
    }

    @Override
    public Object array(String elementType, Object[] values) {
        return this.json.writeValueAsString(values);
    }

    @Override
    public String claim(TableName table, boolean parkKeys) {
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
                """.formatted(table, claimable(table, parkKeys), micros("o.created_at"));
    }

    @Override
    public String lookBehind(TableName table, boolean parkKeys) {
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
                        ids(":ids"),
                        table + "_retry_idx",
                        deadLetters,
                        waitingOfKey("w", "c"));
    }

    @Override
    public String startCycle(TableName table) {
        // A slot is the row lock on a row of the cycle-slot table, which ends with the transaction however it ends.
        // Neither database can set a commit's durability, nor the server's transaction timeouts, for one transaction
        // only: the settings are the server's (see the operations guide), and the statement leaves those parameters
        // out. No row comes back when every slot is taken.
        return """
                SELECT s.slot FROM %s s
                WHERE s.slot < :slots
                ORDER BY s.slot
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """.formatted(table.cycleSlots());
    }

    @Override
    public @Nullable String waitForCommitFlush() {
        return null;
    }

    @Override
    public String delete(TableName table) {
        return "DELETE o FROM %s STRAIGHT_JOIN %s o ON o.id = f.id".formatted(ids(":ids"), table);
    }

    @Override
    public String lockUnlocked(TableName table) {
        return "SELECT o.id FROM %s STRAIGHT_JOIN %s o ON o.id = f.id FOR UPDATE SKIP LOCKED"
                .formatted(ids(":ids"), table);
    }

    @Override
    public String recordFailures(TableName table) {
        // Through the primary key, whatever the optimizer thinks of a small table: a scan would lock, and wait for,
        // the rows that other relays' cycles hold.
        return """
                UPDATE %1$s
                    JOIN JSON_TABLE(:delays, '$[*]' COLUMNS (n FOR ORDINALITY, delay_ms BIGINT PATH '$')) AS d
                        ON d.n = f.n
                    JOIN %2$s ON e.n = f.n
                    STRAIGHT_JOIN %3$s o FORCE INDEX (PRIMARY) ON o.id = f.id
                SET o.attempts = o.attempts + 1,
                    o.next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL (d.delay_ms * 1000) MICROSECOND,
                    o.last_error = e.error
                """.formatted(ids(":ids"), errors(), table);
    }

    @Override
    public List<String> deadLetter(TableName table) {
        return List.of("""
                INSERT INTO %1$s (%2$s, last_error)
                SELECT o.id, o.event_id, o.topic, o.record_key, o.event_type, o.payload, o.headers, o.created_at,
                       o.attempts + 1, e.error
                FROM %3$s
                    JOIN %4$s ON e.n = f.n
                    STRAIGHT_JOIN %5$s o FORCE INDEX (PRIMARY) ON o.id = f.id
                """.formatted(table.deadLetters(), COLUMNS, ids(":ids"), errors(), table), delete(table));
    }

    @Override
    public @Nullable String vacuum(TableName table) {
        return null;
    }

    @Override
    public String count(TableName table) {
        return "SELECT count(*) FROM %s".formatted(table);
    }

    @Override
    public String statistics(TableName table, boolean parkKeys) {
        return """
                SELECT (SELECT count(*) FROM %1$s) AS waiting,
                       (SELECT %4$s FROM %1$s o FORCE INDEX (PRIMARY) WHERE %3$s ORDER BY o.id LIMIT 1)
                           AS oldest_micros,
                       (SELECT count(*) FROM %2$s) AS dead_letters,
                       (SELECT count(*) FROM (SELECT DISTINCT topic, record_key FROM %2$s WHERE record_key IS NOT NULL)
                            AS k) AS parked_keys,
                       %5$s AS read_at_micros
                """.formatted(
                        table,
                        table.deadLetters(),
                        claimable(table, parkKeys),
                        micros("o.created_at"),
                        micros("UTC_TIMESTAMP(6)"));
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
                WHERE (:topic IS NULL OR topic = :topic) AND (:key IS NULL OR record_key = :key)
                ORDER BY id
                FOR UPDATE
                """.formatted(table.deadLetters());
    }

    @Override
    public List<String> requeueDeadLetters(TableName table) {
        return List.of("""
                INSERT INTO %1$s (%2$s, last_error)
                SELECT d.id, d.event_id, d.topic, d.record_key, d.event_type, d.payload, d.headers, d.created_at, 0,
                       d.last_error
                FROM %3$s STRAIGHT_JOIN %4$s d FORCE INDEX (PRIMARY) ON d.id = f.id
                """.formatted(table, COLUMNS, ids(":ids"), table.deadLetters()), discardDeadLetters(table));
    }

    @Override
    public String discardDeadLetters(TableName table) {
        return "DELETE d FROM %s STRAIGHT_JOIN %s d ON d.id = f.id".formatted(ids(":ids"), table.deadLetters());
    }

    @Override
    public String markProcessed(TableName table) {
        // A plain insert, which fails on a recorded id in this statement only (the caller's transaction goes on):
        // INSERT IGNORE would also turn a consumer name too long for its column into a truncated one, and ids never
        // belonged to no consumer here, as they did on PostgreSQL before ids were kept per consumer.
        return "INSERT INTO %s (consumer, event_id) VALUES (?, ?)".formatted(table.processed());
    }

    @Override
    public String purgeProcessed(TableName table) {
        return """
                DELETE FROM %s
                WHERE processed_at < UTC_TIMESTAMP(6) - INTERVAL (? * 1000) MICROSECOND
                ORDER BY processed_at
                LIMIT ?
                """.formatted(table.processed());
    }

    @Override
    public boolean wakesOtherInstances() {
        return false;
    }

    @Override
    public String notifyWakeUp(TableName table) {
        throw noNotifications();
    }

    @Override
    public String listenForWakeUps(TableName table) {
        throw noNotifications();
    }

    @Override
    public String unlistenWakeUps(TableName table) {
        throw noNotifications();
    }

    private UnsupportedOperationException noNotifications() {
        return new UnsupportedOperationException(this.productName + " has no notifications between sessions");
    }

    /** The ids of a JSON array parameter, as table {@code f}, with their place {@code n}. */
    private static String ids(String parameter) {
        return "JSON_TABLE(%s, '$[*]' COLUMNS (n FOR ORDINALITY, id BIGINT PATH '$')) AS f".formatted(parameter);
    }

    /**
     * A time column, a {@code DATETIME(6)} in UTC, as microseconds since the epoch: read so, it does not depend on the
     * time zones of the session and of this JVM.
     */
    private static String micros(String time) {
        return "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', %s)".formatted(time);
    }

    /** The error texts of the JSON array parameter {@code :errors}, as table {@code e}, with their place. */
    private static String errors() {
        return "JSON_TABLE(:errors, '$[*]' COLUMNS (n FOR ORDINALITY, error LONGTEXT PATH '$')) AS e";
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
    private static String claimable(TableName table, boolean parkKeys) {
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
