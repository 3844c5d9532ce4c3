package dev.txoutbox.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.springframework.jdbc.core.RowCallbackHandler;

/**
 * D: the database's ceiling, a bare JDBC loop that claims batches the relay's size with SKIP LOCKED and deletes
 * them, sending nothing; the same loop with the claim reading whole rows, as a relay must; and the commits that one
 * connection makes in a second, one row each, which is what the disk allows when PostgreSQL flushes every commit.
 */
final class DatabaseCeiling {

    private final Report report;

    private final int rows;

    DatabaseCeiling(Report report, int rows) {
        this.report = report;
        this.rows = rows;
    }

    /** The bare claim of ids and the claim of whole rows, in this order; then the commit rate. */
    Pace[] run() throws Exception {
        Pace ids = claimAndDelete("D", "id", rs -> {});
        // Not the ceiling of the RESULT line, which is the bare claim of ids above: what the database alone hands
        // over when the claim also reads the columns that a relay must read, the payload above all. It tells how
        // much of the relay's time goes to reading its rows rather than to publishing them.
        Pace wholeRows = claimAndDelete(
                "D, whole rows", "id, event_id, topic, record_key, event_type, payload, headers, created_at", rs -> {
                    rs.getObject(2, UUID.class);
                    rs.getString(3);
                    rs.getString(4);
                    rs.getString(5);
                    rs.getBytes(6);
                    rs.getString(7);
                    rs.getTimestamp(8);
                });
        commitRate();
        return new Pace[] {ids, wholeRows};
    }

    /**
     * Commits of one small row each, one after the other on one connection: each waits for its flush to disk when
     * PostgreSQL keeps its commits, so that their rate is the most that any one session can commit, a relay's cycle
     * or a writer's transaction alike.
     */
    private void commitRate() throws Exception {
        try (HikariDataSource database = EmbeddedInfrastructure.newDatabase();
                Connection connection = database.getConnection()) {
            try (Statement create = connection.createStatement()) {
                create.execute("CREATE TABLE benchmark_commit (n bigint)");
            }
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO benchmark_commit VALUES (?)")) {
                long start = System.nanoTime();
                long end = start + TimeUnit.SECONDS.toNanos(5);
                long commits = 0;
                while (System.nanoTime() < end) {
                    insert.setLong(1, commits++);
                    insert.executeUpdate();
                }
                this.report.row(
                        "D: commits of one row each, one connection (per s)",
                        Measures.perSecond(commits, System.nanoTime() - start));
            }
        }
    }

    /** Claims batches of a backlog with SKIP LOCKED, reads them, and deletes them. */
    private Pace claimAndDelete(String name, String columns, RowCallbackHandler read) throws Exception {
        OutboxStore store = OutboxTestTables.newStore();
        Workload.fill(store, "bench-db", this.rows);
        int batch = RelaySettings.DEFAULT_BATCH_SIZE;
        MachineCpu before = MachineCpu.read();
        long start = System.nanoTime();
        int deleted = 0;
        try (Connection connection = store.dataSource().getConnection();
                PreparedStatement claim = connection.prepareStatement(
                        "SELECT " + columns + " FROM outbox_event ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED");
                PreparedStatement delete = connection.prepareStatement("DELETE FROM outbox_event WHERE id = ANY(?)")) {
            connection.setAutoCommit(false);
            while (true) {
                claim.setInt(1, batch);
                List<Long> ids = new ArrayList<>(batch);
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        read.processRow(rs);
                    }
                }
                if (ids.isEmpty()) {
                    connection.commit();
                    break;
                }
                delete.setArray(1, connection.createArrayOf("bigint", ids.toArray()));
                deleted += delete.executeUpdate();
                connection.commit();
            }
        }
        double rowsPerSecond = Measures.perSecond(deleted, System.nanoTime() - start);
        double cpuSeconds = MachineCpu.read().secondsSince(before);
        Workload.discardDeadRows(store);
        this.report.row(
                name.equals("D")
                        ? "D: JDBC claim and delete, nothing sent (rows/s)"
                        : "D: the same, reading the rows' columns (rows/s)",
                rowsPerSecond);
        return new Pace(rowsPerSecond, this.report.cpuRow(name, "row", cpuSeconds, deleted));
    }
}
