package dev.txoutbox.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.core.simple.JdbcClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and writes the outbox table through Spring's {@link JdbcClient}: what writers, operators and health checks
 * need. Every method runs in the caller's transaction, if there is one, since the connection comes from Spring's
 * transaction synchronization. A relay's cycle (claims, deletes, failures, vacuums) works on the table through
 * statements of its own, from the same {@linkplain #dialect() dialect}.
 */
public final class OutboxStore {

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final OutboxDialect dialect;

    private final TableName table;

    private final boolean parkKeys;

    private final JsonMapper json = JsonMapper.builder().build();

    private final String insertSql;

    private final String countSql;

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
        this.dialect = dialect;
        this.table = table;
        this.parkKeys = parkKeys;
        this.insertSql = dialect.insert(table);
        this.countSql = dialect.count(table);
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

    /**
     * Whether a key with a dead letter is parked: its later rows are not claimed until the dead letter is requeued
     * or discarded, and they do not count as lag.
     */
    public boolean parkKeys() {
        return this.parkKeys;
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
}
