package dev.txoutbox.testing;

import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Outbox tables in fresh embedded databases, and rows for them. */
public final class OutboxTestTables {

    private OutboxTestTables() {}

    /** A migrated outbox table in a PostgreSQL database of its own. */
    public static OutboxStore newStore() {
        return newStore(TestDatabase.POSTGRESQL);
    }

    /** A migrated outbox table in a database of its own. */
    public static OutboxStore newStore(TestDatabase database) {
        return migratedStore(database.newDatabase());
    }

    /** The outbox table in the database behind a data source, migrated. */
    public static OutboxStore migratedStore(DataSource dataSource) {
        TableName table = new TableName(TableName.DEFAULT);
        OutboxDialect dialect = OutboxDialects.detect(dataSource);
        OutboxMigrations.migrate(dataSource, dialect, table, new TableName(OutboxMigrations.DEFAULT_HISTORY_TABLE));
        return new OutboxStore(dataSource, dialect, table);
    }

    /**
     * Inserts {@code count} events without payload in one statement, the i-th (from 1) with key {@code k-(i %
     * keys)}.
     */
    public static void insertEvents(OutboxStore store, String topic, int count, int keys) {
        TestDatabase database = TestDatabase.of(store.dialect());
        JdbcClient.create(store.dataSource())
                .sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                        SELECT %s, ?, CONCAT('k-', g.n %% ?), 'TestEvent', NULL, '{}'
                        FROM %s
                        """.formatted(database.randomUuid(), database.series(count)))
                .params(topic, keys)
                .update();
    }

    /** A JSON event with a fresh event id. */
    public static NewRecord event(String topic, String key, String json) {
        return new NewRecord(
                UUID.randomUUID(), topic, key, "TestEvent", json.getBytes(StandardCharsets.UTF_8), Map.of());
    }
}
