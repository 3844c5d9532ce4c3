package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The processed event ids of consumers, against embedded PostgreSQL: each consumer keeps its own. */
class ProcessedEventsIntegrationTests {

    @Test
    void eachConsumerRecordsAnEventAsProcessedOnceForItself() {
        ProcessedEvents processed = processedEvents(OutboxTestTables.newStore().dataSource());
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
        ProcessedEvents processed = processedEvents(OutboxTestTables.newStore().dataSource());

        assertThatThrownBy(() -> processed.markProcessed(" ", UUID.randomUUID()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("consumer's name is empty")
                .hasMessageContaining("consumer group id");
    }

    @Test
    void idsProcessedBeforeTheUpgradeCountAsProcessedForEveryConsumer() {
        DataSource dataSource = EmbeddedInfrastructure.newDatabase();
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

    private static ProcessedEvents processedEvents(DataSource dataSource) {
        return new ProcessedEvents(dataSource, OutboxDialects.postgres(), new TableName(TableName.DEFAULT));
    }
}
