package dev.txoutbox.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the outbox's own Flyway migrations (the scripts under {@code db/outbox/<database>} in this jar). They keep
 * their own schema-history table, so that their versions never collide with the application's migrations.
 */
public final class OutboxMigrations {

    private static final Logger log = LoggerFactory.getLogger(OutboxMigrations.class);

    /** The schema-history table used when none is configured. */
    public static final String DEFAULT_HISTORY_TABLE = "outbox_schema_history";

    /** How many times the migrations are tried before their failure stops the caller. */
    private static final int ATTEMPTS = 3;

    private static final long RETRY_MILLIS = 1_000;

    private OutboxMigrations() {}

    /**
     * Brings the outbox table up to date.
     *
     * @param dataSource where the table lives
     * @param dialect the database's dialect, which names the migrations' location
     * @param table the outbox table's name
     * @param historyTable the name of the schema-history table of these migrations
     */
    public static void migrate(DataSource dataSource, OutboxDialect dialect, TableName table, TableName historyTable) {
        Flyway flyway = Flyway.configure(OutboxMigrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations(dialect.migrationLocation())
                .table(historyTable.value())
                .placeholders(Map.of("outbox_table", table.value()))
                // The schema usually holds the application's tables already; start our history from scratch.
                .baselineOnMigrate(true)
                .baselineVersion("0")
                // Instances that start together take turns through a PostgreSQL advisory lock. A session's lock would
                // outlive its transaction on whatever server connection a pooler in transaction mode (PgBouncer) ran
                // it on, and be released on another, so it is always a transaction's, as is Flyway's default now.
                // Every migration here runs in a transaction of its own, which that lock requires.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "true"))
                .load();
        MigrateResult result = migrate(flyway, dataSource, table, historyTable);
        log.info(
                "Outbox table '{}' is at schema version {} ({} migrations applied, history in '{}')",
                table,
                result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                result.migrationsExecuted,
                historyTable);
    }

    /**
     * Migrates, and tries again after the one failure known to come from instances that start together. Flyway
     * decides whether to create the history table, or to start it with a baseline, before it takes its lock: an
     * instance that decided so while another one was creating the table fails ("Unable to baseline schema history
     * table ... as it already contains migrations", or the table exists already), and finds the table complete when
     * it tries again. Any other failure, such as a changed checksum or a failing script, stops the caller at once.
     * Every migration here runs in a transaction of its own, so a failed attempt leaves nothing half-applied; a future
     * migration that cannot run in a transaction (such as CREATE INDEX CONCURRENTLY) would end that, and the lock
     * above with it.
     */
    private static MigrateResult migrate(Flyway flyway, DataSource dataSource, TableName table, TableName history) {
        List<FlywayException> earlier = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            boolean historyExisted = exists(dataSource, history);
            try {
                return flyway.migrate();
            } catch (FlywayException ex) {
                earlier.forEach(ex::addSuppressed);
                boolean race = (!historyExisted && exists(dataSource, history))
                        || String.valueOf(ex.getMessage()).contains("already contains migrations");
                if (!race || attempt == ATTEMPTS) {
                    throw ex;
                }
                earlier.add(ex);
                log.warn(
                        "Outbox: applying the migrations of table '{}' failed while another instance created their"
                                + " history table '{}' at the same moment; trying again in {} ms (attempt {} of {})",
                        table,
                        history,
                        RETRY_MILLIS,
                        attempt + 1,
                        ATTEMPTS,
                        ex);
                try {
                    Thread.sleep(RETRY_MILLIS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw ex;
                }
            }
        }
    }

    /** Whether the table exists, as far as the data source's connections can see. */
    private static boolean exists(DataSource dataSource, TableName table) {
        try (Connection connection = dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            statement
                    .executeQuery("SELECT 1 FROM " + table.value() + " WHERE false")
                    .close();
            return true;
        } catch (SQLException ex) {
            return false;
        }
    }
}
