package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The processed event ids of consumers, against each database: each consumer keeps its own. */
abstract class ProcessedEventsIntegrationTests {

    private final TestDatabase database;

    ProcessedEventsIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @Test
    void eachConsumerRecordsAnEventAsProcessedOnceForItself() {
        ProcessedEvents processed =
                processedEvents(OutboxTestTables.newStore(this.database).dataSource());
        UUID eventId = UUID.randomUUID();

        assertThat(processed.markProcessed("read-model", eventId)).isTrue();
        assertThat(processed.markProcessed("notifier", eventId))
                .as("another consumer has not processed it yet")
                .isTrue();
        assertThat(processed.markProcessed("read-model", eventId)).isFalse();
        assertThat(processed.markProcessed("notifier", eventId)).isFalse();
    }

    @Test
    void aBlankConsumerNameIsRefused() {
        ProcessedEvents processed =
                processedEvents(OutboxTestTables.newStore(this.database).dataSource());

        assertThatThrownBy(() -> processed.markProcessed(" ", UUID.randomUUID()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("consumer's name is empty")
                .hasMessageContaining("consumer group id");
    }

    @Test
    void purgeDeletesTheIdsOlderThanTheRetentionOldestFirstAndAtMostTheLimit() {
        DataSource dataSource = OutboxTestTables.newStore(this.database).dataSource();
        ProcessedEvents processed = processedEvents(dataSource);
        UUID oldest = UUID.randomUUID();
        UUID old = UUID.randomUUID();
        UUID recent = UUID.randomUUID();
        processed.markProcessed("read-model", oldest);
        processed.markProcessed("read-model", old);
        processed.markProcessed("read-model", recent);
        JdbcClient jdbc = JdbcClient.create(dataSource);
        setProcessedHoursAgo(jdbc, oldest, 3);
        setProcessedHoursAgo(jdbc, old, 2);

        assertThat(processed.purgeOlderThan(Duration.ofHours(1), 1)).isEqualTo(1);
        assertThat(processed.markProcessed("read-model", oldest))
                .as("the oldest went first")
                .isTrue();
        assertThat(processed.markProcessed("read-model", old)).isFalse();
        assertThat(processed.purgeOlderThan(Duration.ofHours(1), 100)).isEqualTo(1);
        assertThat(processed.purgeOlderThan(Duration.ofHours(1), 100)).isZero();
        assertThat(processed.markProcessed("read-model", recent))
                .as("within the retention")
                .isFalse();
    }

    @Test
    void idsProcessedBeforeTheUpgradeCountAsProcessedForEveryConsumer() {
        assumeTrue(
                this.database == TestDatabase.POSTGRESQL,
                "PostgreSQL's migrations kept ids without a consumer before; MariaDB's began with ids per consumer");
        DataSource dataSource = this.database.newDatabase();
        Flyway.configure(getClass().getClassLoader())
                .dataSource(dataSource)
                .locations(OutboxDialects.postgres().migrationLocation())
                .table(OutboxMigrations.DEFAULT_HISTORY_TABLE)
                .placeholders(Map.of("outbox_table", TableName.DEFAULT))
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .target("4")
                .load()
                .migrate();
        UUID before = UUID.randomUUID();
        JdbcClient jdbc = JdbcClient.create(dataSource);
        jdbc.sql("INSERT INTO outbox_event_processed (event_id) VALUES (?)")
                .param(before)
                .update();

        ProcessedEvents processed =
                processedEvents(OutboxTestTables.migratedStore(dataSource).dataSource());

        assertThat(jdbc.sql("SELECT consumer FROM outbox_event_processed WHERE event_id = ?")
                        .param(before)
                        .query(String.class)
                        .single())
                .isEmpty();
        assertThat(processed.markProcessed("read-model", before)).isFalse();
        assertThat(processed.markProcessed("notifier", before)).isFalse();
        assertThat(processed.markProcessed("read-model", UUID.randomUUID())).isTrue();
        assertThat(processed.purgeOlderThan(Duration.ZERO, 100))
                .as("the old ids go with the retention like any other")
                .isEqualTo(2);
    }

    private void setProcessedHoursAgo(JdbcClient jdbc, UUID eventId, int hours) {
        jdbc.sql("UPDATE outbox_event_processed SET processed_at = %s - INTERVAL '%d' HOUR"
                                .formatted(this.database.now(), hours)
                        + " WHERE event_id = ?")
                .param(this.database.dialect().eventId(eventId))
                .update();
    }

    private ProcessedEvents processedEvents(DataSource dataSource) {
        return new ProcessedEvents(dataSource, this.database.dialect(), new TableName(TableName.DEFAULT));
    }
}
