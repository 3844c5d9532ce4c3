package dev.txoutbox.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Outbox;
import dev.txoutbox.autoconfigure.OutboxRelayAutoConfiguration;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TopicReader;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.time.Duration;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two instances of an application on one database: a commit on one wakes up the relay of the other through
 * PostgreSQL LISTEN/NOTIFY, long before that relay's poll interval of a minute.
 */
class WakeUpAcrossInstancesTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    private final String topic = EmbeddedInfrastructure.newTopic("wake-up", 1);

    @Test
    void aCommitOnAnInstanceWithoutARelayIsPublishedAtOnceByTheRelayOfAnother() {
        relayingInstance()
                .run(relaying -> writingInstance().run(writing -> {
                    awaitIdle(relaying);

                    write(writing, "order-1");

                    try (TopicReader reader = new TopicReader(this.topic)) {
                        assertThat(reader.awaitRecords(1, Duration.ofSeconds(10)))
                                .extracting(ConsumerRecord::key)
                                .containsExactly("order-1");
                    }
                }));
    }

    @Test
    void withWakeUpsOffTheRelayOfAnotherInstanceWaitsForItsPoll() {
        relayingInstance()
                .withPropertyValues("outbox.relay.notify.enabled=false")
                .run(relaying -> writingInstance()
                        .withPropertyValues("outbox.relay.notify.enabled=false")
                        .run(writing -> {
                            awaitIdle(relaying);
                            OutboxStore store = relaying.getBean(OutboxStore.class);

                            write(writing, "order-1");

                            await().during(Duration.ofSeconds(3))
                                    .atMost(Duration.ofSeconds(5))
                                    .until(() -> store.count() == 1);
                            // The row could be published all along: a wake-up, as a local commit gives, publishes it.
                            relaying.getBean(OutboxRelay.class).wakeUp();
                            await().atMost(TIMEOUT).until(() -> store.count() == 0);
                        }));
    }

    private ApplicationContextRunner instance(String name) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        KafkaAutoConfiguration.class,
                        OutboxStoreAutoConfiguration.class,
                        OutboxWriterAutoConfiguration.class,
                        OutboxRelayAutoConfiguration.class))
                .withBean(DataSource.class, () -> EmbeddedInfrastructure.dataSource(this.databaseUrl, name))
                .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());
    }

    /** An instance whose relay, left alone, would find rows written elsewhere only after a minute. */
    private ApplicationContextRunner relayingInstance() {
        return instance("relaying-instance")
                .withBean(CompletedCycles.class)
                .withPropertyValues("outbox.relay.poll-interval=1m", "outbox.relay.concurrency=1");
    }

    /** An instance that writes events and runs no relay. */
    private ApplicationContextRunner writingInstance() {
        return instance("writing-instance").withPropertyValues("outbox.relay.enabled=false");
    }

    /** Waits until the relay's first cycle found nothing, so that it waits for its poll, and its listener listens. */
    private static void awaitIdle(ApplicationContext relaying) {
        await().atMost(TIMEOUT)
                .until(() -> relaying.getBean(CompletedCycles.class).count() >= 1
                        && relaying.getBeanProvider(WakeUpListener.class).stream()
                                .allMatch(WakeUpListener::isListening));
    }

    private void write(ApplicationContext writing, String key) {
        new TransactionTemplate(new DataSourceTransactionManager(writing.getBean(DataSource.class)))
                .executeWithoutResult(status -> writing.getBean(Outbox.class).write(this.topic, key, "{}"));
    }
}
