package dev.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.autoconfigure.OutboxProperties;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Consumer-side de-duplication: each event id is processed once, in the consumer's own transaction. */
class DeduplicatorTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    OutboxStoreAutoConfiguration.class, ConsumerDeduplicationAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase);

    @Test
    void theFirstDeliveryIsProcessedAndARedeliveryIsSkipped() {
        this.runner.run(context -> {
            Deduplicator deduplicator = context.getBean(Deduplicator.class);
            TransactionTemplate transactions = transactions(context.getBean(DataSource.class));
            ConsumerRecord<String, String> record = record(UUID.randomUUID().toString());

            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("read-model", record)))
                    .isTrue();
            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("read-model", record)))
                    .isFalse();
        });
    }

    @Test
    void eachConsumerProcessesAnEventOnceForItself() {
        this.runner.run(context -> {
            Deduplicator deduplicator = context.getBean(Deduplicator.class);
            TransactionTemplate transactions = transactions(context.getBean(DataSource.class));
            ConsumerRecord<String, String> record = record(UUID.randomUUID().toString());

            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("read-model", record)))
                    .isTrue();
            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("notifier", record)))
                    .as("the read model's record of the event does not make the notifier skip it")
                    .isTrue();
            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("notifier", record)))
                    .isFalse();
        });
    }

    @Test
    void outsideAListenerWithoutAConsumerNameItFailsSayingToPassOne() {
        this.runner.run(context -> {
            Deduplicator deduplicator = context.getBean(Deduplicator.class);
            TransactionTemplate transactions = transactions(context.getBean(DataSource.class));

            assertThatThrownBy(() -> transactions.execute(status ->
                            deduplicator.firstDelivery(record(UUID.randomUUID().toString()))))
                    .isInstanceOf(OutboxException.class)
                    .hasMessageContaining("orders-0@0")
                    .hasMessageContaining("consumer group id")
                    .hasMessageContaining("Pass the consumer's name");
        });
    }

    @Test
    void aBlankConsumerNameIsRefused() {
        this.runner.run(context -> assertThatThrownBy(
                        () -> context.getBean(Deduplicator.class).firstDelivery("", UUID.randomUUID()))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("empty consumer name"));
    }

    @Test
    void aRolledBackProcessingDoesNotCountAsProcessed() {
        this.runner.run(context -> {
            Deduplicator deduplicator = context.getBean(Deduplicator.class);
            TransactionTemplate transactions = transactions(context.getBean(DataSource.class));
            ConsumerRecord<String, String> record = record(UUID.randomUUID().toString());

            transactions.executeWithoutResult(status -> {
                assertThat(deduplicator.firstDelivery("read-model", record)).isTrue();
                status.setRollbackOnly();
            });

            assertThat(transactions.<Boolean>execute(status -> deduplicator.firstDelivery("read-model", record)))
                    .as("the redelivery after the failure is processed")
                    .isTrue();
        });
    }

    @Test
    void withoutATransactionItFailsClearly() {
        this.runner.run(context -> assertThatThrownBy(() -> context.getBean(Deduplicator.class)
                        .firstDelivery("read-model", record(UUID.randomUUID().toString())))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("Deduplicator.firstDelivery")
                .hasMessageContaining("@Transactional"));
    }

    @Test
    void aRecordWithoutAnEventIdIsRefusedNamingTheRecord() {
        this.runner.run(context -> assertThatThrownBy(() -> context.getBean(Deduplicator.class)
                        .firstDelivery("read-model", new ConsumerRecord<>("orders", 2, 17, "k", "v")))
                .isInstanceOf(OutboxException.class)
                .hasMessageContaining("orders-2@17")
                .hasMessageContaining(OutboxHeaders.EVENT_ID));
    }

    @Test
    void idsOlderThanTheRetentionArePurged() {
        this.runner.withPropertyValues("outbox.consumer.retention=1h").run(context -> {
            JdbcClient jdbc = JdbcClient.create(context.getBean(DataSource.class));
            UUID old = UUID.randomUUID();
            UUID recent = UUID.randomUUID();
            jdbc.sql(
                            "INSERT INTO outbox_event_processed (consumer, event_id, processed_at) VALUES ('c', ?, now() - interval '2 hours')")
                    .param(old)
                    .update();
            jdbc.sql("INSERT INTO outbox_event_processed (consumer, event_id) VALUES ('c', ?)")
                    .param(recent)
                    .update();

            int purged = context.getBean(ProcessedEventsPurger.class).purge();

            assertThat(purged).isEqualTo(1);
            assertThat(jdbc.sql("SELECT event_id FROM outbox_event_processed")
                            .query(UUID.class)
                            .list())
                    .containsExactly(recent);
            assertThat(context.getBean(ProcessedEventsPurger.class).isRunning()).isTrue();
        });
    }

    @Test
    void purgeDefaultsAreDocumented() {
        OutboxProperties.Consumer consumer = new OutboxProperties().getConsumer();
        assertThat(consumer.getRetention()).isEqualTo(Duration.ofDays(7));
        assertThat(consumer.getPurgeInterval()).isEqualTo(Duration.ofHours(1));
    }

    private static ConsumerRecord<String, String> record(String eventId) {
        ConsumerRecord<String, String> record = new ConsumerRecord<>("orders", 0, 0, "k", "v");
        record.headers().add(OutboxHeaders.EVENT_ID, eventId.getBytes(StandardCharsets.UTF_8));
        return record;
    }

    private static TransactionTemplate transactions(DataSource dataSource) {
        return new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }
}
