package dev.txoutbox.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.core.ArgumentPreparedStatementSetter;
import org.springframework.jdbc.core.SqlParameterValue;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterUtils;
import org.springframework.jdbc.core.namedparam.ParsedSql;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and writes the outbox table through Spring's {@link JdbcClient}: what writers, operators and health checks
 * need. Every method runs in the caller's transaction, if there is one, since the connection comes from Spring's
 * transaction synchronization; {@link JdbcOutboxWriter} writes in a transaction of the caller's own JDBC connection
 * instead, for applications without Spring's transactions. A relay's cycle (claims, deletes, failures, vacuums) works
 * on the table through statements of its own, from the same {@linkplain #dialect() dialect}.
 */
public final class OutboxStore {

    /** The SQLStates of a table that does not exist: PostgreSQL's, then MariaDB's and MySQL's. */
    private static final Set<String> UNDEFINED_TABLE = Set.of("42P01", "42S02");

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final OutboxDialect dialect;

    private final TableName table;

    private final boolean parkKeys;

    private static final TypeReference<Map<String, String>> HEADERS = new TypeReference<>() {};

    private final JsonMapper json = JsonMapper.builder().build();

    private final String insertSql;

    private final boolean keyLocks;

    private final @Nullable String lockKeySql;

    private final ParsedSql insertParsed;

    private final @Nullable ParsedSql lockKeyParsed;

    private final String countSql;

    private final String listRowsSql;

    private final String highestIdSql;

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
        this(dataSource, dialect, table, parkKeys, true);
    }

    /**
     * Creates a store for one table, whose writers may do without key locks.
     *
     * @param dataSource where the table lives
     * @param dialect the SQL of the database, see {@link OutboxDialects#detect(DataSource)}
     * @param table the table's name
     * @param parkKeys whether a key with a dead letter is parked: its later rows are not claimed until the dead
     *     letter is requeued or discarded
     * @param keyLocks whether writers of one topic and key take turns until they commit, so that the key's ids follow
     *     the commit order of its transactions. A relay that polls the table needs it; one that reads the database's
     *     log of commits does not (see {@link OutboxDialect#insertWithoutKeyLock(TableName)})
     * @throws UnsupportedOperationException without key locks on a database whose log the relay cannot read
     */
    public OutboxStore(
            DataSource dataSource, OutboxDialect dialect, TableName table, boolean parkKeys, boolean keyLocks) {
        this.dataSource = dataSource;
        this.jdbc = JdbcClient.create(dataSource);
        this.dialect = dialect;
        this.table = table;
        this.parkKeys = parkKeys;
        this.keyLocks = keyLocks;
        this.insertSql = keyLocks ? dialect.insert(table) : dialect.insertWithoutKeyLock(table);
        this.lockKeySql = keyLocks ? dialect.lockKey(table) : null;
        this.insertParsed = NamedParameterUtils.parseSqlStatement(this.insertSql);
        this.lockKeyParsed = (this.lockKeySql != null) ? NamedParameterUtils.parseSqlStatement(this.lockKeySql) : null;
        this.countSql = dialect.count(table);
        this.listRowsSql = dialect.listRows(table);
        this.highestIdSql = dialect.highestId(table);
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

    /** The SQL of the table's database. */
    public OutboxDialect dialect() {
        return this.dialect;
    }

    /** Whether writers of one topic and key take turns until they commit (see the constructor). */
    public boolean keyLocks() {
        return this.keyLocks;
    }

    /**
     * Whether a key with a dead letter is parked: its later rows are not claimed until the dead letter is requeued
     * or discarded, and they do not count as lag.
     */
    public boolean parkKeys() {
        return this.parkKeys;
    }

    /**
     * Inserts one row in the current Spring-managed transaction, or, without one, in a transaction of its own that
     * commits at once. It checks nothing: the row is written as given, with its id. Applications write events through
     * the starter's {@code Outbox}, or without Spring Boot through {@link JdbcOutboxWriter}, which check them and give
     * them their ids.
     */
    public void insert(NewRecord record) {
        Map<String, @Nullable Object> arguments = insertArguments(record);
        if (this.lockKeySql != null && record.key() != null) {
            this.jdbc.sql(this.lockKeySql).params(arguments).query().listOfRows();
        }
        this.jdbc.sql(this.insertSql).params(arguments).update();
    }

    /**
     * Inserts one row in the transaction of the caller's connection: the row commits or rolls back with it. The same
     * statement, bound the same way, as {@link #insert(NewRecord)}, so that writers of one topic and key take turns
     * until they commit. It checks nothing: {@link JdbcOutboxWriter} checks the event and the connection, gives the
     * event its id, and calls this.
     *
     * @throws SQLException when the database refuses the insert, with a message that names the event and the table
     */
    void insert(Connection connection, NewRecord record) throws SQLException {
        MapSqlParameterSource arguments = new MapSqlParameterSource(insertArguments(record));
        try {
            if (this.lockKeySql != null && record.key() != null) {
                execute(connection, Objects.requireNonNull(this.lockKeyParsed), arguments);
            }
            execute(connection, this.insertParsed, arguments);
        } catch (SQLException ex) {
            throw new SQLException(insertFailure(record, ex), ex.getSQLState(), ex.getErrorCode(), ex);
        }
    }

    private static void execute(Connection connection, ParsedSql sql, MapSqlParameterSource arguments)
            throws SQLException {
        try (PreparedStatement statement =
                connection.prepareStatement(NamedParameterUtils.substituteNamedParameters(sql, arguments))) {
            new ArgumentPreparedStatementSetter(NamedParameterUtils.buildValueArray(sql, arguments, null))
                    .setValues(statement);
            statement.execute();
        }
    }

    /** The named arguments of the insert statement, and of the statement that locks the key before it. */
    private Map<String, @Nullable Object> insertArguments(NewRecord record) {
        Map<String, @Nullable Object> arguments = new HashMap<>();
        arguments.put("eventId", this.dialect.eventId(record.eventId()));
        arguments.put("topic", record.topic());
        // Nulls with their types: without one, a driver may ask the server for the statement's parameter types first.
        arguments.put("key", new SqlParameterValue(Types.VARCHAR, record.key()));
        arguments.put("eventType", record.eventType());
        arguments.put("payload", new SqlParameterValue(Types.VARBINARY, record.payload()));
        arguments.put("headers", this.json.writeValueAsString(record.headers()));
        if (this.lockKeySql != null && record.key() != null) {
            arguments.put("keyLock", this.dialect.keyLock(record.topic(), record.key()));
        }
        return arguments;
    }

    private String insertFailure(NewRecord record, SQLException ex) {
        String message = "Could not write event %s ('%s' to topic '%s') into outbox table '%s'"
                .formatted(record.eventId(), record.eventType(), record.topic(), this.table);
        if (UNDEFINED_TABLE.contains(ex.getSQLState())) {
            message += (": the table does not exist in this database. Create it at start-up with"
                            + " OutboxMigrations.migrate(..) for table '%s', or apply the scripts of docs/table.md")
                    .formatted(this.table);
        }
        message += ". The database said: " + ex.getMessage();
        return message;
    }

    /** Reads how the outbox stands, in one statement. */
    public OutboxStatistics statistics() {
        return this.jdbc
                .sql(this.statisticsSql)
                .query((rs, rowNum) -> {
                    long oldest = rs.getLong("oldest_micros");
                    boolean none = rs.wasNull();
                    return new OutboxStatistics(
                            rs.getLong("waiting"),
                            none ? null : epochMicros(oldest),
                            rs.getLong("dead_letters"),
                            rs.getLong("parked_keys"),
                            epochMicros(rs.getLong("read_at_micros")));
                })
                .single();
    }

    /** A time read as microseconds since the epoch, as the dialects' statements return times. */
    static Instant epochMicros(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }

    /** How many rows wait in the table. */
    public long count() {
        return this.jdbc.sql(this.countSql).query(Long.class).single();
    }

    /**
     * Reads rows waiting in the table, payloads and headers included, in the current Spring-managed transaction if
     * there is one (so that it sees that transaction's own uncommitted rows): for tests and diagnostics.
     *
     * @param afterId only rows with a greater id
     * @param limit how many rows at most
     * @return the rows, in id order
     */
    public List<OutboxRow> rows(long afterId, int limit) {
        return this.jdbc
                .sql(this.listRowsSql)
                .params(afterId, limit)
                .query((rs, rowNum) -> {
                    String headers = rs.getString("headers");
                    return new OutboxRow(
                            rs.getLong("id"),
                            UUID.fromString(rs.getString("event_id")),
                            rs.getString("topic"),
                            rs.getString("record_key"),
                            rs.getString("event_type"),
                            rs.getBytes("payload"),
                            (headers == null || headers.equals("{}"))
                                    ? Map.of()
                                    : this.json.readValue(headers, HEADERS),
                            rs.getInt("attempts"),
                            rs.getString("last_error"));
                })
                .list();
    }

    /** The highest id of the rows in the table (as the current transaction sees it), 0 when it has none. */
    public long highestId() {
        return this.jdbc.sql(this.highestIdSql).query(Long.class).single();
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
}
