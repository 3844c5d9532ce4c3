package dev.txoutbox.store;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /** A table that exists already: PostgreSQL's SQLState, then MariaDB's and MySQL's. */
    private static final Set<String> DUPLICATE_TABLE = Set.of("42P07", "42S01");

    private static final String UNIQUE_VIOLATION = "23505";

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
                .placeholders(placeholders(dialect, table))
                // The schema usually holds the application's tables already; start our history from scratch.
                .baselineOnMigrate(true)
                .baselineVersion("0")
                // Instances that start together take turns through a PostgreSQL advisory lock (on MariaDB and MySQL, a
                // named lock). A session's lock would
                // outlive its transaction on whatever server connection a pooler in transaction mode (PgBouncer) ran
                // it on, and be released on another, so it is always a transaction's, as is Flyway's default now.
                // Every migration here runs in a transaction of its own, which that lock requires.
                .configuration(Map.of("flyway.postgresql.transactional.lock", "true"))
                .load();
        MigrateResult result = migrate(flyway, table, historyTable);
        log.info(
                "Outbox table '{}' is at schema version {} ({} migrations applied, history in '{}')",
                table,
                result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                result.migrationsExecuted,
                historyTable);
    }

    private static Map<String, String> placeholders(OutboxDialect dialect, TableName table) {
        Map<String, String> placeholders = new HashMap<>(dialect.migrationPlaceholders());
        placeholders.put("outbox_table", table.value());
        return placeholders;
    }

    /**
     * Migrates, and tries again after the one failure known to come from instances that start together. Flyway
     * decides whether to create the history table, or to start it with a baseline, before it takes its lock: an
     * instance that decided so while another one was creating the table fails ("Unable to baseline schema history
     * table ... as it already exists, and is empty" or "... contains migrations", or the table, or its row type, exists
     * already), and finds the
     * table complete when it tries again. The failure's cause alone tells that race: any other failure, such as a
     * changed checksum or a failing script (also one that runs right after this attempt created the history table),
     * stops the caller at once. On PostgreSQL every migration here runs in a transaction of its own, so a failed
     * attempt leaves nothing half-applied; a future migration that cannot run in a transaction (such as CREATE INDEX
     * CONCURRENTLY) would end that, and the lock above with it. MariaDB and MySQL commit each DDL statement on its own:
     * there a script that fails half-way leaves its first statements applied, and Flyway records it as failed.
     */
    private static MigrateResult migrate(Flyway flyway, TableName table, TableName history) {
        List<FlywayException> earlier = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            try {
                return flyway.migrate();
            } catch (FlywayException ex) {
                earlier.forEach(ex::addSuppressed);
                if (!isCreationRace(ex, history) || attempt == ATTEMPTS) {
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

    /**
     * Whether the failure is another instance's creation of the history table at the same moment: Flyway's refusal to
     * start with a baseline a history table that exists already, or PostgreSQL's report that the history table
     * (42P07), or the row type of the same name (23505 on pg_type), exists already.
     */
    private static boolean isCreationRace(Throwable failure, TableName history) {
        String name = history.value().substring(history.value().lastIndexOf('.') + 1);
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String message = String.valueOf(cause.getMessage());
            if (cause instanceof FlywayException && message.startsWith("Unable to baseline schema history table")) {
                return true;
            }
            if (cause instanceof SQLException sql
                    && (DUPLICATE_TABLE.contains(sql.getSQLState()) || UNIQUE_VIOLATION.equals(sql.getSQLState()))
                    && message.contains(name)) {
                return true;
            }
        }
        return false;
    }
}
