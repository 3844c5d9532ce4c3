package dev.txoutbox.store;

import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
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
        MigrateResult result = Flyway.configure(OutboxMigrations.class.getClassLoader())
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
                .load()
                .migrate();
        log.info(
                "Outbox table '{}' is at schema version {} ({} migrations applied, history in '{}')",
                table,
                result.targetSchemaVersion != null ? result.targetSchemaVersion : result.initialSchemaVersion,
                result.migrationsExecuted,
                historyTable);
    }
}
