package dev.txoutbox.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
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
 * transaction synchronization; {@link #insert(Connection, NewRecord)} writes in a transaction of the caller's own
 * JDBC connection instead, for applications without Spring's transactions. A relay's cycle (claims, deletes,
 * failures, vacuums) works on the table through statements of its own, from the same {@linkplain #dialect() dialect}.
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

    /**
     * Inserts one row in the current Spring-managed transaction, or, without one, in a transaction of its own that
     * commits at once. Without Spring's transactions, write through {@link JdbcOutboxWriter} or {@link
     * #insert(Connection, NewRecord)}, in the transaction of the business change.
     */
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
     * Inserts one row in the transaction of the caller's connection: the row commits or rolls back with it. The same
     * statement as {@link #insert(NewRecord)}, so that writers of one topic and key take turns until they commit.
     * {@link JdbcOutboxWriter} checks the event, gives it its id, and calls this.
     *
     * @param connection a connection to the table's database, in a transaction (autocommit off)
     * @param record the row
     * @throws IllegalStateException when the connection is in autocommit mode: the row would commit on its own,
     *     whatever becomes of the business change
     * @throws SQLException when the database refuses the insert
     */
    public void insert(Connection connection, NewRecord record) throws SQLException {
        if (connection.getAutoCommit()) {
            throw new IllegalStateException(("The connection given to write event %s to topic '%s' into outbox table"
                            + " '%s' is in autocommit mode: the outbox row would commit on its own, and be published"
                            + " even if the business change rolls back. Call connection.setAutoCommit(false) before"
                            + " the business change, write it and the event on that connection, then commit.")
                    .formatted(record.eventType(), record.topic(), this.table));
        }
        try (PreparedStatement insert = connection.prepareStatement(this.insertSql)) {
            insert.setString(1, record.topic());
            insert.setString(2, record.key());
            insert.setObject(3, record.eventId());
            insert.setString(4, record.topic());
            insert.setString(5, record.key());
            insert.setString(6, record.eventType());
            insert.setBytes(7, record.payload());
            insert.setString(8, this.json.writeValueAsString(record.headers()));
            insert.executeUpdate();
        }
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
