package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import org.springframework.beans.factory.InitializingBean;

/**
 * Makes sure at start-up that the outbox table exists: applies the migrations when they are enabled, then checks
 * the table, so that a missing table stops the application with a clear message rather than failing the first
 * business transaction.
 */
final class OutboxSchema implements InitializingBean {

    private final OutboxStore store;

    private final OutboxDialect dialect;

    private final OutboxProperties.Migration migration;

    OutboxSchema(OutboxStore store, OutboxDialect dialect, OutboxProperties.Migration migration) {
        this.store = store;
        this.dialect = dialect;
        this.migration = migration;
    }

    @Override
    public void afterPropertiesSet() {
        if (this.migration.isEnabled()) {
            OutboxMigrations.migrate(
                    this.store.dataSource(),
                    this.dialect,
                    this.store.table(),
                    InvalidOutboxProperties.bind(
                            "outbox.migration.history-table",
                            this.migration.getHistoryTable(),
                            () -> new TableName(this.migration.getHistoryTable())));
        }
        this.store.verifyTable();
    }
}
