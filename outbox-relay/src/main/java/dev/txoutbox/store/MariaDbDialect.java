package dev.txoutbox.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

    private static final String COLUMNS =
            "id, event_id, topic, record_key, event_type, payload, headers, created_at, attempts";

    private final String productName;

    private final int minimumMajorVersion;

    private final int minimumMinorVersion;

    private final int minimumPatchVersion;

    private final String binaryCollation;

    /**
     * What follows {@code FOR UPDATE} in a statement that reads the table through a JSON_TABLE of ids, to lock only
     * the table's rows: MySQL refuses a locking clause that would cover the JSON_TABLE too, MariaDB has no
     * {@code OF}.
     */
    private final String lockOfTable;

    /**
     * What the statement that starts a cycle returns as the transaction's isolation level: MySQL's driver asks the
     * server for it in a round trip of its own. MariaDB's name for it, {@code tx_isolation}, is deprecated since 11.1,
     * whose {@code transaction_isolation} the oldest supported versions lack; a MariaDB relay sets READ COMMITTED on
     * every cycle, as on a server at its default, REPEATABLE READ. Null when not returned.
     */
    private final @Nullable String isolation;

    private final JsonMapper json = JsonMapper.builder().build();

    private MariaDbDialect(
            String productName,
            int minimumMajorVersion,
            int minimumMinorVersion,
            int minimumPatchVersion,
            String binaryCollation,
            String lockOfTable,
            @Nullable String isolation) {
        this.productName = productName;
        this.minimumMajorVersion = minimumMajorVersion;
        this.minimumMinorVersion = minimumMinorVersion;
        this.minimumPatchVersion = minimumPatchVersion;
        this.binaryCollation = binaryCollation;
        this.lockOfTable = lockOfTable;
        this.isolation = isolation;
    }

    /** MariaDB: SKIP LOCKED came with 10.6; JSON_TABLE too. */
    static MariaDbDialect mariaDb() {
        return new MariaDbDialect("MariaDB", 10, 6, 0, "utf8mb4_nopad_bin", "", null);
    }

    /**
     * MySQL: SKIP LOCKED came with 8.0.1, JSON_TABLE with 8.0.4, and the binary collation that does not pad with
     * spaces (utf8mb4_0900_bin) with 8.0.17.
     */
    static MariaDbDialect mySql() {
        return new MariaDbDialect("MySQL", 8, 0, 17, "utf8mb4_0900_bin", " OF o", "@@transaction_isolation");
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
        // other too, which costs time, never order. The row is the first 16 bits of the MD5 of topic and key (the
        // table has 65,536 rows): a hash without structure. CRC32 is linear, so keys that differ in a pattern
        // (k20..k27 and k7..k0 of two writers) shared rows in a pattern too, in opposite orders, and writers of many
        // keys each deadlocked. The hash is computed in Java (keyLock), not by the server: MySQL 9.7 has no MD5(),
        // and a MySQL 8 in FIPS mode returns NULL for it.
        return """
                SELECT k.bucket FROM %s k WHERE k.bucket = :keyLock FOR UPDATE
                """.formatted(table.keyLocks());
    }

    @Override
    public Object keyLock(String topic, String key) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("MD5").digest((topic + " " + key).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("Every Java platform has MD5", ex);
        }
        return ((digest[0] & 0xff) << 8) | (digest[1] & 0xff);
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
        return MariaDbClaims.claim(table, parkKeys);
    }

    @Override
    public String lookBehind(TableName table, boolean parkKeys) {
        return MariaDbClaims.lookBehind(table, parkKeys);
    }

    @Override
    public String startCycle(TableName table) {
        // A slot is the row lock on a row of the cycle-slot table, which ends with the transaction however it ends.
        // Neither database can set a commit's durability, nor the server's transaction timeouts, for one transaction
        // only: the settings are the server's (see the operations guide), and the statement leaves those parameters
        // out. No row comes back when every slot is taken. The session's isolation level is the transaction's unless
        // a level was set for the next transaction only, which neither the relay nor Spring does.
        return """
                SELECT s.slot%s FROM %s s
                WHERE s.slot < :slots
                ORDER BY s.slot
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """.formatted(this.isolation != null ? ", " + this.isolation + " AS isolation" : "", table.cycleSlots());
    }

    @Override
    public boolean startCycleReportsIsolation() {
        return this.isolation != null;
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
        return "SELECT o.id FROM %s STRAIGHT_JOIN %s o ON o.id = f.id FOR UPDATE%s SKIP LOCKED"
                .formatted(ids(":ids"), table, this.lockOfTable);
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
                        MariaDbClaims.claimable(table, parkKeys),
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
    static String ids(String parameter) {
        return "JSON_TABLE(%s, '$[*]' COLUMNS (n FOR ORDINALITY, id BIGINT PATH '$')) AS f".formatted(parameter);
    }

    /**
     * A time column, a {@code DATETIME(6)} in UTC, as microseconds since the epoch: read so, it does not depend on the
     * time zones of the session and of this JVM.
     */
    static String micros(String time) {
        return "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', %s)".formatted(time);
    }

    /** The error texts of the JSON array parameter {@code :errors}, as table {@code e}, with their place. */
    private static String errors() {
        return "JSON_TABLE(:errors, '$[*]' COLUMNS (n FOR ORDINALITY, error LONGTEXT PATH '$')) AS e";
    }
}
