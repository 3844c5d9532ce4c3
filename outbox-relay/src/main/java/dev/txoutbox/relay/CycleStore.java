package dev.txoutbox.relay;

import dev.txoutbox.relay.ClaimRule.ClaimRow;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a relay's cycle does to the outbox table of an {@link OutboxStore}: claim rows, delete the published ones,
 * record failures, move dead letters, and vacuum the table. The SQL comes from the store's
 * {@linkplain OutboxStore#dialect() dialect}, for its table; claims leave out the keys with a dead letter when the
 * store {@linkplain OutboxStore#parkKeys() parks keys}. Every method but {@link #vacuum()} runs in the caller's
 * transaction, if there is one, since the connection comes from Spring's transaction synchronization.
 */
final class CycleStore {

    private static final TypeReference<Map<String, String>> HEADERS = new TypeReference<>() {};

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final TableName table;

    private final JsonMapper json = JsonMapper.builder().build();

    private final OutboxDialect dialect;

    private final String startCycleSql;

    private final String claimSql;

    private final @Nullable String lookBehindSql;

    private final @Nullable String claimIdsSql;

    private final String deleteSql;

    private final @Nullable String waitForCommitFlushSql;

    private final String lockUnlockedSql;

    private final String recordFailuresSql;

    private final List<String> deadLetterSql;

    private final @Nullable String vacuumSql;

    /** Whether the claims of the calling thread check their isolation level, see {@link #checkingIsolation}. */
    private final ThreadLocal<Boolean> checkingIsolation = new ThreadLocal<>();

    CycleStore(OutboxStore store) {
        OutboxDialect dialect = store.dialect();
        this.dialect = dialect;
        this.dataSource = store.dataSource();
        this.jdbc = JdbcClient.create(this.dataSource);
        this.table = store.table();
        this.startCycleSql = dialect.startCycle(this.table);
        this.claimSql = dialect.claim(this.table, store.parkKeys());
        this.lookBehindSql = dialect.lookBehind(this.table, store.parkKeys());
        String claimIds;
        try {
            claimIds = dialect.claimIds(this.table, store.parkKeys());
        } catch (UnsupportedOperationException ex) {
            claimIds = null;
        }
        this.claimIdsSql = claimIds;
        this.deleteSql = dialect.delete(this.table);
        this.waitForCommitFlushSql = dialect.waitForCommitFlush();
        this.lockUnlockedSql = dialect.lockUnlocked(this.table);
        this.recordFailuresSql = dialect.recordFailures(this.table);
        this.deadLetterSql = dialect.deadLetter(this.table);
        this.vacuumSql = dialect.vacuum(this.table);
    }

    /** The data source the table lives in. */
    DataSource dataSource() {
        return this.dataSource;
    }

    /** The table's name. */
    TableName table() {
        return this.table;
    }

    /**
     * Takes one of the table's {@code cycleSlots} cycle slots, then locks up to {@code limit} claimable rows in id
     * order and returns the ones that may be published now without breaking per-key order (see {@link ClaimRule}):
     * rows whose topic and key have an earlier row outside this claim stay locked, but are left out. Claims nothing
     * when other transactions hold every slot. Must run in a READ COMMITTED transaction, which holds the slot and the
     * locks; inside {@link #checkingIsolation}, it throws {@link NotReadCommittedException} before it claims anything
     * in another. The
     * statements after it in the transaction read the table through its indexes only, like the claim itself (see
     * {@link OutboxDialect#startCycle(TableName)}). Bounded in rows only, and kept from the server's timeouts for a minute;
     * see {@link #claim(int, long, int, Duration, boolean)} for other bounds.
     */
    Claim claim(int limit, int cycleSlots) {
        return claim(
                limit, Long.MAX_VALUE, cycleSlots, Duration.ofMinutes(1), RelaySettings.DEFAULT_SYNCHRONOUS_COMMIT);
    }

    /**
     * Claims as {@link #claim(int, int)} does, with two more bounds. Of the rows it locks, it returns only the
     * id-ordered prefix whose payloads, keys and headers add up to at most {@code maxBytes}, and always the first
     * row, however large; the rows after that prefix stay locked for the transaction and count as held back, so that
     * no key's order breaks and {@link Claim#locked()} still tells a full batch. Their payloads are not read into
     * this JVM. And the database does not end the transaction, nor its session, for being idle in it or for lasting
     * long, before {@code transactionTimeout} has passed (the server's {@code idle_in_transaction_session_timeout}
     * and, where it has it, {@code transaction_timeout}, are set for this transaction only); pass the relay's own
     * bound on its transaction, with room for the statements that end it. Zero turns both off. Unless {@code
     * synchronousCommit}, the transaction commits without waiting for its flush to disk (see {@link
     * RelaySettings#synchronousCommit()}).
     */
    Claim claim(int limit, long maxBytes, int cycleSlots, Duration transactionTimeout, boolean synchronousCommit) {
        if (!startCycle(cycleSlots, transactionTimeout, synchronousCommit)) {
            return Claim.NO_FREE_SLOT;
        }
        List<ClaimRow> rows = this.jdbc
                .sql(this.claimSql)
                .param("limit", limit)
                .param("maxBytes", maxBytes)
                .query(this::mapClaimRow)
                .list();
        if (this.lookBehindSql != null && !rows.isEmpty()) {
            rows = new ArrayList<>(rows);
            rows.addAll(this.jdbc
                    .sql(this.lookBehindSql)
                    .param("lastId", rows.get(rows.size() - 1).id())
                    .param(
                            "ids",
                            this.dialect.array(
                                    "bigint", rows.stream().map(ClaimRow::id).toArray()))
                    .query(this::mapClaimRow)
                    .list());
        }
        return ClaimRule.apply(rows, OutboxDialect.CLAIM_LOOK_BEHIND);
    }

    /**
     * Claims, for a relay that reads the database's log of commits, the rows of the given ids that may be published
     * now, in the given order (the order their transactions committed; a key's rows tried before come first of it, see
     * {@link OutboxDialect#claimIds}), with the bounds of {@link #claim(int, long, int, Duration, boolean)}. It tells
     * which ids it found: a row it did not find is gone (published already), waits in the table (for its retry, behind
     * a dead letter, behind an earlier row of its key that waits), is held by another transaction, or is not visible
     * yet; a row it found but returns no record for waits for an earlier row of its key, or lies past the byte budget.
     *
     * @param ids the ids the log gave, in commit order
     * @return the claim, and the ids it found
     */
    IdClaim claimIds(
            List<Long> ids, long maxBytes, int cycleSlots, Duration transactionTimeout, boolean synchronousCommit) {
        String sql = this.claimIdsSql;
        if (sql == null) {
            throw new UnsupportedOperationException(
                    "The relay's log mode is for PostgreSQL, not " + this.dialect.productName());
        }
        if (!startCycle(cycleSlots, transactionTimeout, synchronousCommit)) {
            return new IdClaim(Claim.NO_FREE_SLOT, Set.of());
        }
        List<ClaimRow> rows = this.jdbc
                .sql(sql)
                .param("ids", this.dialect.array("bigint", ids.toArray()))
                .param("maxBytes", maxBytes)
                .query(this::mapIdClaimRow)
                .list();
        List<OutboxRecord> publishable = new ArrayList<>(rows.size());
        Set<Long> found = new HashSet<>(rows.size() * 2);
        // The rows come in the order to publish them in: once a row of a topic and key waits, so do the later ones of
        // its key.
        Set<Waves.TopicKey> waiting = new HashSet<>();
        for (ClaimRow row : rows) {
            found.add(row.id());
            Waves.TopicKey key = row.key() == null ? null : new Waves.TopicKey(row.topic(), row.key());
            OutboxRecord record = row.record();
            if (record == null || (key != null && waiting.contains(key))) {
                if (key != null) {
                    waiting.add(key);
                }
                continue;
            }
            publishable.add(record);
        }
        return new IdClaim(new Claim(publishable, rows.size()), found);
    }

    /** A row of {@link #claimIds}: {@code claimed} there means free of earlier rows of its key; unclaimed rows go. */
    private ClaimRow mapIdClaimRow(ResultSet rs, int rowNum) throws SQLException {
        ClaimRow row = mapClaimRow(rs, rowNum);
        if (!rs.getBoolean("claimed")) {
            return new ClaimRow(row.id(), row.topic(), row.key(), false, null);
        }
        return rs.getBoolean("in_budget") ? row : new ClaimRow(row.id(), row.topic(), row.key(), true, null);
    }

    /**
     * Starts a cycle's transaction (see {@link OutboxDialect#startCycle}); false when no cycle slot is free.
     *
     * @throws NotReadCommittedException when the transaction runs at another isolation level than READ COMMITTED
     */
    private boolean startCycle(int cycleSlots, Duration transactionTimeout, boolean synchronousCommit) {
        long timeoutMillis = Math.min(Math.max(transactionTimeout.toMillis(), 0), Integer.MAX_VALUE);
        List<Map<String, @Nullable Object>> started = this.jdbc
                .sql(this.startCycleSql)
                .param("synchronousCommit", synchronousCommit)
                .param("timeoutMillis", timeoutMillis)
                .param("slots", cycleSlots)
                .param("table", this.table.value())
                .query()
                .listOfRows();
        if (started.isEmpty() || started.get(0).get("slot") == null) {
            return false;
        }
        if (Boolean.TRUE.equals(this.checkingIsolation.get())) {
            String isolation = text(started.get(0).get("isolation"));
            if (!isReadCommitted(isolation)) {
                throw new NotReadCommittedException(isolation);
            }
        }
        return true;
    }

    /** The name of the store's dialect's class, for messages. */
    String dialectName() {
        return this.dialect.getClass().getName();
    }

    /** Whether {@link #claim} tells a transaction's isolation level without a round trip of its own. */
    boolean reportsIsolation() {
        return this.dialect.startCycleReportsIsolation();
    }

    /**
     * Runs work whose claims check that their transaction runs at READ COMMITTED, for a transaction that takes the
     * DataSource's own level (see {@link #reportsIsolation()}); elsewhere the level was set by whoever began the
     * transaction, and is not checked.
     */
    <T> T checkingIsolation(Supplier<T> work) {
        this.checkingIsolation.set(true);
        try {
            return work.get();
        } finally {
            this.checkingIsolation.remove();
        }
    }

    private static @Nullable String text(@Nullable Object value) {
        return value instanceof byte[] bytes
                ? new String(bytes, StandardCharsets.UTF_8)
                : Objects.toString(value, null);
    }

    /**
     * Whether an isolation level, as PostgreSQL ({@code read committed}), MariaDB or MySQL ({@code READ-COMMITTED})
     * names it, is READ COMMITTED. PostgreSQL runs {@code read uncommitted} as READ COMMITTED, but the claims are not
     * written for a level that the server may some day take at its word.
     */
    static boolean isReadCommitted(@Nullable String isolation) {
        return isolation != null && isolation.replace('-', ' ').trim().equalsIgnoreCase("read committed");
    }

    /**
     * Makes the transaction's commit wait for the flush that the server's settings ask for, after a claim that let it
     * commit without waiting.
     */
    void waitForCommitFlush() {
        if (this.waitForCommitFlushSql != null) {
            this.jdbc.sql(this.waitForCommitFlushSql).update();
        }
    }

    /** Deletes the rows with these ids; returns how many it deleted. */
    int delete(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return this.jdbc
                .sql(this.deleteSql)
                .param("ids", this.dialect.array("bigint", ids.toArray()))
                .update();
    }

    /**
     * Deletes the rows with these ids that no other transaction holds, without waiting for any lock; must run in a
     * transaction. For acknowledged records whose cycle's transaction failed before it could delete them.
     *
     * @return how many it deleted
     */
    int deleteUnlocked(Collection<Long> ids) {
        return delete(lockUnlocked(ids));
    }

    private Set<Long> lockUnlocked(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(this.jdbc
                .sql(this.lockUnlockedSql)
                .param("ids", this.dialect.array("bigint", ids.toArray()))
                .query(Long.class)
                .list());
    }

    /**
     * Records failed sends as {@link #recordFailures(Collection)} does, for those rows that no other transaction
     * holds, without waiting for any lock; must run in a transaction. For records still in flight whose cycle's
     * transaction failed before it could record them: a row another relay has claimed since is left to it.
     *
     * @return how many it recorded
     */
    int recordFailuresUnlocked(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return 0;
        }
        Set<Long> free = lockUnlocked(failures.stream().map(Failure::id).toList());
        List<Failure> recordable =
                failures.stream().filter(failure -> free.contains(failure.id())).toList();
        recordFailures(recordable);
        return recordable.size();
    }

    /** Records failed sends: each row's attempts go up by one, and it may be claimed again after its delay. */
    void recordFailures(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        this.jdbc
                .sql(this.recordFailuresSql)
                .param("ids", column("bigint", failures, Failure::id))
                .param("delays", column("bigint", failures, Failure::retryDelayMillis))
                .param("errors", column("text", failures, Failure::error))
                .update();
    }

    /** Moves rows to the dead-letter table, each with its last error; its attempts count the last one too. */
    void deadLetter(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        Object ids = column("bigint", failures, Failure::id);
        Object errors = column("text", failures, Failure::error);
        for (String statement : this.deadLetterSql) {
            this.jdbc.sql(statement).param("ids", ids).param("errors", errors).update();
        }
    }

    private Object column(String sqlType, Collection<Failure> failures, Function<Failure, Object> value) {
        return this.dialect.array(sqlType, failures.stream().map(value).toArray());
    }

    /** Whether the table's database needs vacuums from the relay; see {@link #vacuum()}. */
    boolean vacuums() {
        return this.vacuumSql != null;
    }

    /**
     * Vacuums the table on a connection of its own, outside any transaction, unless something holds a lock that
     * conflicts with a vacuum's, such as another vacuum of it (autovacuum's, or another relay's).
     *
     * @return whether the table was vacuumed or skipped, and the database's warnings
     */
    VacuumOutcome vacuum() {
        if (this.vacuumSql == null) {
            return new VacuumOutcome(false, List.of());
        }
        // Not through DataSourceUtils: inside a transaction, that would be the transaction's connection, and turning
        // auto-commit on would commit it.
        try (Connection connection = this.dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            // VACUUM cannot run in a transaction block, which a pool that hands out connections without
            // auto-commit would start.
            connection.setAutoCommit(true);
            try (Statement statement = connection.createStatement()) {
                statement.execute(this.vacuumSql);
                return VacuumOutcome.of(statement.getWarnings());
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        } catch (SQLException ex) {
            throw new DataAccessResourceFailureException("Could not vacuum table '" + this.table + "'", ex);
        }
    }

    private ClaimRow mapClaimRow(ResultSet rs, int rowNum) throws SQLException {
        long id = rs.getLong("id");
        String topic = rs.getString("topic");
        String key = rs.getString("record_key");
        boolean claimed = rs.getBoolean("claimed");
        if (!claimed || !rs.getBoolean("in_budget")) {
            return new ClaimRow(id, topic, key, claimed, null);
        }
        String headers = rs.getString("headers");
        OutboxRecord record = new OutboxRecord(
                id,
                UUID.fromString(rs.getString("event_id")),
                topic,
                key,
                rs.getString("event_type"),
                rs.getBytes("payload"),
                headers.equals("{}") ? Map.of() : this.json.readValue(headers, HEADERS),
                Instant.EPOCH.plus(rs.getLong("created_micros"), ChronoUnit.MICROS),
                rs.getInt("attempts"),
                // A row committed while the claim ran may be younger than the claim's own clock reading: never in the
                // future.
                Instant.now().minusNanos((long) (Math.max(rs.getDouble("age_seconds"), 0) * 1e9)));
        return new ClaimRow(id, topic, key, true, record);
    }

    /**
     * The outcome of a claim.
     *
     * @param records the rows that may be published now, in id order
     * @param locked how many rows the claim locked, including those held back for per-key order or past its byte
     *     budget
     * @param noFreeSlot whether the claim found every cycle slot of the table taken, and claimed nothing
     */
    record Claim(List<OutboxRecord> records, int locked, boolean noFreeSlot) {

        /** A claim that found every cycle slot taken. */
        static final Claim NO_FREE_SLOT = new Claim(List.of(), 0, true);

        /** A claim that took a slot. */
        Claim(List<OutboxRecord> records, int locked) {
            this(records, locked, false);
        }
    }

    /**
     * The outcome of a claim of given ids.
     *
     * @param claim the records to publish, in the order to publish them in (see {@link #claimIds})
     * @param found the ids whose rows the claim found and locked, also those it does not publish now
     */
    record IdClaim(Claim claim, Set<Long> found) {}

    /**
     * A send that failed.
     *
     * @param id the row's id
     * @param retryDelayMillis how long the row waits before it may be claimed again (not used for dead letters)
     * @param error what went wrong, kept in the row for operators
     */
    record Failure(long id, long retryDelayMillis, String error) {}
}
