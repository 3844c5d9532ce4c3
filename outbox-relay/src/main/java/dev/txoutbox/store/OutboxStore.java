package dev.txoutbox.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and writes the outbox table through Spring's {@link JdbcClient}. Every method runs in the caller's
 * transaction, if there is one, since the connection comes from Spring's transaction synchronization.
 */
public final class OutboxStore {

    private static final TypeReference<Map<String, String>> HEADERS = new TypeReference<>() {};

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final TableName table;

    private final JsonMapper json = JsonMapper.builder().build();

    private final String insertSql;

    private final String startCycleSql;

    private final String claimSql;

    private final String deleteSql;

    private final String deleteUnlockedSql;

    private final String lockUnlockedSql;

    private final String recordFailuresSql;

    private final String deadLetterSql;

    private final String countSql;

    private final String vacuumSql;

    private final String statisticsSql;

    private final Map<String, TableName> verifySql;

    /**
     * Creates a store for one table whose keys are parked while they have a dead letter.
     *
     * @param dataSource where the table lives
     * @param dialect the SQL of the database, see {@link OutboxDialects#detect(DataSource)}
     * @param table the table's name
     */
    public OutboxStore(DataSource dataSource, OutboxDialect dialect, TableName table) {
        this(dataSource, dialect, table, true);
    }

    /**
     * Creates a store for one table.
     *
     * @param dataSource where the table lives
     * @param dialect the SQL of the database, see {@link OutboxDialects#detect(DataSource)}
     * @param table the table's name
     * @param parkKeys whether a key with a dead letter is parked: its later rows are not claimed until the dead
     *     letter is requeued or discarded
     */
    public OutboxStore(DataSource dataSource, OutboxDialect dialect, TableName table, boolean parkKeys) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
        this.table = table;
        this.insertSql = dialect.insert(table);
        this.startCycleSql = dialect.startCycle();
        this.claimSql = dialect.claim(table, parkKeys);
        this.deleteSql = dialect.delete(table);
        this.deleteUnlockedSql = dialect.deleteUnlocked(table);
        this.lockUnlockedSql = dialect.lockUnlocked(table);
        this.recordFailuresSql = dialect.recordFailures(table);
        this.deadLetterSql = dialect.deadLetter(table);
        this.countSql = dialect.count(table);
        this.vacuumSql = dialect.vacuum(table);
        this.statisticsSql = dialect.statistics(table, parkKeys);
        this.verifySql = new LinkedHashMap<>();
        for (TableName each : List.of(table, table.deadLetters(), table.processed())) {
            this.verifySql.put(dialect.count(each), each);
        }
    }

    /** The data source the table lives in. */
    public DataSource dataSource() {
        return this.dataSource;
    }

    /** The table's name. */
    public TableName table() {
        return this.table;
    }

    /** Inserts one row. */
    public void insert(NewRecord record) {
        this.jdbc
                .sql(this.insertSql)
                .params(
                        record.topic(),
                        record.key(),
                        record.eventId(),
                        record.topic(),
                        record.key(),
                        record.eventType(),
                        record.payload(),
                        this.json.writeValueAsString(record.headers()))
                .update();
    }

    /**
     * Takes one of the table's {@code cycleSlots} cycle slots, then locks up to {@code limit} claimable rows in id
     * order and returns the ones that may be published now without breaking per-key order: rows whose topic and key
     * have an earlier row outside this claim stay locked, but are left out. Claims nothing when other transactions
     * hold every slot. Must run in a transaction, which holds the slot and the locks. The statements after it in the
     * transaction read the table through its indexes only, like the claim itself (see
     * {@link OutboxDialect#startCycle()}). Bounded in rows only, and kept from the server's timeouts for a minute;
     * see {@link #claim(int, long, int, Duration)} for other bounds.
     */
    public Claim claim(int limit, int cycleSlots) {
        return claim(limit, Long.MAX_VALUE, cycleSlots, Duration.ofMinutes(1));
    }

    /**
     * Claims as {@link #claim(int, int)} does, with two more bounds. Of the rows it locks, it returns only the
     * id-ordered prefix whose payloads, keys and headers add up to at most {@code maxBytes}, and always the first
     * row, however large; the rows after that prefix stay locked for the transaction and count as held back, so that
     * no key's order breaks and {@link Claim#locked()} still tells a full batch. Their payloads are not read into
     * this JVM. And the database does not end the transaction, nor its session, for being idle in it or for lasting
     * long, before {@code transactionTimeout} has passed (the server's {@code idle_in_transaction_session_timeout}
     * and, where it has it, {@code transaction_timeout}, are set for this transaction only); pass the relay's own
     * bound on its transaction, with room for the statements that end it. Zero turns both off.
     */
    public Claim claim(int limit, long maxBytes, int cycleSlots, Duration transactionTimeout) {
        long timeoutMillis = Math.min(Math.max(transactionTimeout.toMillis(), 0), Integer.MAX_VALUE);
        Object slot = this.jdbc
                .sql(this.startCycleSql)
                .params(timeoutMillis, cycleSlots, this.table.value())
                .query()
                .singleRow()
                .get("slot");
        if (slot == null) {
            return Claim.NO_FREE_SLOT;
        }
        List<ClaimRow> rows = this.jdbc
                .sql(this.claimSql)
                .params(limit, maxBytes)
                .query(this::mapClaimRow)
                .list();
        List<OutboxRecord> inBudget = new ArrayList<>(rows.size());
        Set<Long> claimedIds = new HashSet<>();
        for (ClaimRow row : rows) {
            if (row.claimed()) {
                claimedIds.add(row.id());
                if (row.record() != null) {
                    inBudget.add(row.record());
                }
            }
        }
        // The earlier rows this claim did not take are held by other relays: the first of each key holds it back.
        Map<TopicKey, Long> heldElsewhere = new HashMap<>();
        int earlier = 0;
        long lastEarlier = 0;
        for (ClaimRow row : rows) {
            if (!row.claimed()) {
                earlier++;
                lastEarlier = Math.max(lastEarlier, row.id());
                if (!claimedIds.contains(row.id())) {
                    heldElsewhere.merge(
                            new TopicKey(row.topic(), Objects.requireNonNull(row.key())), row.id(), Math::min);
                }
            }
        }
        // Past the rows the claim read, what is held elsewhere is unknown: claimed rows there wait.
        long readUpTo = earlier < OutboxDialect.CLAIM_LOOK_BEHIND ? Long.MAX_VALUE : lastEarlier;
        inBudget.sort(Comparator.comparingLong(OutboxRecord::id));
        List<OutboxRecord> publishable = new ArrayList<>(inBudget.size());
        for (OutboxRecord record : inBudget) {
            if (record.key() == null) {
                publishable.add(record);
                continue;
            }
            Long elsewhere = heldElsewhere.get(new TopicKey(record.topic(), record.key()));
            boolean blocked = (elsewhere != null && elsewhere < record.id()) || record.id() > readUpTo;
            if (!blocked) {
                publishable.add(record);
            }
        }
        return new Claim(publishable, claimedIds.size());
    }

    /** Deletes the rows with these ids; returns how many it deleted. */
    public int delete(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return this.jdbc
                .sql(this.deleteSql)
                .param(new SqlArrayValue("bigint", ids.toArray()))
                .update();
    }

    /**
     * Deletes the rows with these ids that no other transaction holds, in a transaction of the caller's (or on its
     * own). For acknowledged records whose cycle's transaction failed before it could delete them.
     *
     * @return how many it deleted
     */
    public int deleteUnlocked(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return this.jdbc
                .sql(this.deleteUnlockedSql)
                .param(new SqlArrayValue("bigint", ids.toArray()))
                .update();
    }

    /**
     * Records failed sends as {@link #recordFailures(Collection)} does, for those rows that no other transaction
     * holds, without waiting for any lock; must run in a transaction. For records still in flight whose cycle's
     * transaction failed before it could record them: a row another relay has claimed since is left to it.
     *
     * @return how many it recorded
     */
    public int recordFailuresUnlocked(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return 0;
        }
        Set<Long> free = new HashSet<>(this.jdbc
                .sql(this.lockUnlockedSql)
                .param(new SqlArrayValue(
                        "bigint", failures.stream().map(Failure::id).toArray()))
                .query(Long.class)
                .list());
        List<Failure> recordable =
                failures.stream().filter(failure -> free.contains(failure.id())).toList();
        recordFailures(recordable);
        return recordable.size();
    }

    /** Records failed sends: each row's attempts go up by one, and it may be claimed again after its delay. */
    public void recordFailures(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        this.jdbc
                .sql(this.recordFailuresSql)
                .params(
                        column("bigint", failures, Failure::id),
                        column("bigint", failures, Failure::retryDelayMillis),
                        column("text", failures, Failure::error))
                .update();
    }

    /** Moves rows to the dead-letter table, each with its last error; its attempts count the last one too. */
    public void deadLetter(Collection<Failure> failures) {
        if (failures.isEmpty()) {
            return;
        }
        this.jdbc
                .sql(this.deadLetterSql)
                .params(column("bigint", failures, Failure::id), column("text", failures, Failure::error))
                .update();
    }

    private static SqlArrayValue column(String sqlType, Collection<Failure> failures, Function<Failure, Object> value) {
        return new SqlArrayValue(sqlType, failures.stream().map(value).toArray());
    }

    /** Reads how the outbox stands, in one statement. */
    public OutboxStatistics statistics() {
        return this.jdbc
                .sql(this.statisticsSql)
                .query((rs, rowNum) -> {
                    java.sql.Timestamp oldest = rs.getTimestamp("oldest");
                    return new OutboxStatistics(
                            rs.getLong("waiting"),
                            oldest != null ? oldest.toInstant() : null,
                            rs.getLong("dead_letters"),
                            rs.getLong("parked_keys"),
                            rs.getTimestamp("read_at").toInstant());
                })
                .single();
    }

    /**
     * Vacuums the table on a connection of its own, outside any transaction, unless something holds a lock that
     * conflicts with a vacuum's, such as another vacuum of it (autovacuum's, or another relay's).
     *
     * @return whether the table was vacuumed or skipped, and the database's warnings
     */
    public VacuumOutcome vacuum() {
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

    /**
     * What {@link #vacuum()} did.
     *
     * @param busy whether the vacuum skipped the table because something held a conflicting lock on it
     * @param warnings what else the database warned of, such as a user who may not vacuum the table ({@code
     *     permission denied to vacuum ..., skipping it}), each with its SQL state; empty when there was nothing
     */
    public record VacuumOutcome(boolean busy, List<String> warnings) {

        static VacuumOutcome of(@Nullable SQLWarning first) {
            boolean busy = false;
            List<String> warnings = new ArrayList<>();
            for (SQLWarning warning = first; warning != null; warning = warning.getNextWarning()) {
                if (OutboxDialect.VACUUM_BUSY.equals(warning.getSQLState())) {
                    busy = true;
                } else {
                    warnings.add(warning.getMessage() + " (SQL state " + warning.getSQLState() + ")");
                }
            }
            return new VacuumOutcome(busy, List.copyOf(warnings));
        }
    }

    /** How many rows wait in the table. */
    public long count() {
        return this.jdbc.sql(this.countSql).query(Long.class).single();
    }

    /**
     * Checks that the outbox table and the tables named after it (dead letters, processed events) exist and can be
     * read.
     *
     * @throws OutboxTableMissingException naming the first table that does not exist
     */
    public void verifyTable() {
        for (String sql : this.verifySql.keySet()) {
            try {
                this.jdbc.sql(sql).query(Long.class).single();
            } catch (BadSqlGrammarException ex) {
                throw new OutboxTableMissingException(this.table, this.verifySql.get(sql), ex);
            }
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
                rs.getObject("event_id", UUID.class),
                topic,
                key,
                rs.getString("event_type"),
                rs.getBytes("payload"),
                headers.equals("{}") ? Map.of() : this.json.readValue(headers, HEADERS),
                rs.getTimestamp("created_at").toInstant(),
                rs.getInt("attempts"),
                Instant.now().minusNanos((long) (rs.getDouble("age_seconds") * 1e9)));
        return new ClaimRow(id, topic, key, true, record);
    }

    /**
     * The outcome of {@link #claim(int, int)}.
     *
     * @param records the rows that may be published now, in id order
     * @param locked how many rows the claim locked, including those held back for per-key order or past its byte
     *     budget
     * @param noFreeSlot whether the claim found every cycle slot of the table taken, and claimed nothing
     */
    public record Claim(List<OutboxRecord> records, int locked, boolean noFreeSlot) {

        /** A claim that found every cycle slot taken. */
        public static final Claim NO_FREE_SLOT = new Claim(List.of(), 0, true);

        /** A claim that took a slot. */
        public Claim(List<OutboxRecord> records, int locked) {
            this(records, locked, false);
        }
    }

    /**
     * A claimed row, with its record when it is within the claim's byte budget, or an earlier row that the claim read
     * for its topic and key only.
     */
    private record ClaimRow(
            long id,
            String topic,
            @Nullable String key,
            boolean claimed,
            @Nullable OutboxRecord record) {}

    /** The unit of per-key order. */
    private record TopicKey(String topic, String key) {}

    /**
     * A send that failed.
     *
     * @param id the row's id
     * @param retryDelayMillis how long the row waits before it may be claimed again (not used for dead letters)
     * @param error what went wrong, kept in the row for operators
     */
    public record Failure(long id, long retryDelayMillis, String error) {}
}
