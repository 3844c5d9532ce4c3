package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Outbox;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Each outbox meter after a known workload, against embedded PostgreSQL and Kafka. */
class OutboxMetricsTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    MetricsAutoConfiguration.class,
                    KafkaAutoConfiguration.class,
                    OutboxAutoConfiguration.class,
                    OutboxMetricsAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues(
                    "spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers(),
                    "outbox.metrics.refresh-interval=0s",
                    "outbox.relay.send-timeout=4s");

    @Test
    void countersTimerAndGaugesDescribeTheWorkload() {
        String orders = EmbeddedInfrastructure.newTopic("metrics-orders", 1);
        String audit = EmbeddedInfrastructure.newTopic("metrics-audit", 1);
        String missing = "metrics-missing-" + UUID.randomUUID();
        this.runner.run(context -> {
            Outbox outbox = context.getBean(Outbox.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            TransactionTemplate transactions =
                    new TransactionTemplate(new DataSourceTransactionManager(context.getBean(DataSource.class)));
            transactions.executeWithoutResult(status -> {
                for (int i = 0; i < 3; i++) {
                    outbox.write(orders, "order-" + i, "{}");
                }
                outbox.write(audit, "audit", "{}");
            });
            transactions.executeWithoutResult(status -> outbox.write(missing, "poison", "{}"));
            MeterRegistry registry = context.getBean(MeterRegistry.class);

            await().atMost(Duration.ofSeconds(30)).until(() -> store.count() == 0);
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> registry.find("outbox.events.dead.lettered").counter() != null);

            assertThat(registry.get("outbox.events.written")
                            .tag("topic", orders)
                            .counter()
                            .count())
                    .isEqualTo(3);
            assertThat(registry.get("outbox.events.written")
                            .tag("topic", missing)
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("outbox.events.published")
                            .tag("topic", orders)
                            .counter()
                            .count())
                    .isEqualTo(3);
            assertThat(registry.get("outbox.events.published")
                            .tag("topic", audit)
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("outbox.events.dead.lettered")
                            .tag("topic", missing)
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("outbox.send.failures")
                            .tag("permanent", "true")
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("outbox.publish.latency").timer().count()).isEqualTo(4);
            assertThat(registry.get("outbox.publish.latency").timer().max(TimeUnit.MILLISECONDS))
                    .isPositive();
            assertThat(registry.get("outbox.batch.size").summary().totalAmount())
                    .isGreaterThanOrEqualTo(5);
            assertThat(registry.get("outbox.rows.waiting").gauge().value()).isZero();
            assertThat(registry.get("outbox.oldest.row.age").timeGauge().value(TimeUnit.SECONDS))
                    .isZero();
            assertThat(registry.get("outbox.dead.letters").gauge().value()).isEqualTo(1);
            assertThat(registry.get("outbox.keys.parked").gauge().value()).isEqualTo(1);
        });
    }

    @Test
    void gaugesReadTheTableAtMostOncePerRefreshInterval() {
        this.runner
                .withPropertyValues("outbox.metrics.refresh-interval=1h", "outbox.relay.enabled=false")
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.get("outbox.rows.waiting").gauge().value())
                            .isZero();

                    JdbcClient.create(context.getBean(DataSource.class))
                            .sql("INSERT INTO outbox_event (event_id, topic, event_type) VALUES (?, 't', 'T')")
                            .param(UUID.randomUUID())
                            .update();

                    assertThat(context.getBean(OutboxStore.class).count()).isEqualTo(1);
                    assertThat(registry.get("outbox.rows.waiting").gauge().value())
                            .as("the figure read a moment ago is reused")
                            .isZero();
                });
    }

    @Test
    void cyclesThatFindEveryCycleSlotTakenAreCounted() {
        this.runner
                .withPropertyValues(
                        "outbox.relay.table-concurrency=1",
                        "outbox.relay.concurrency=1",
                        "outbox.relay.poll-interval=20ms")
                .run(context -> {
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    OutboxStore store = context.getBean(OutboxStore.class);
                    TransactionTemplate transactions = new TransactionTemplate(
                            new DataSourceTransactionManager(context.getBean(DataSource.class)));
                    assertThat(registry.get("outbox.cycles.without.slot")
                                    .counter()
                                    .count())
                            .isZero();
                    // Another cycle holds the table's only slot, as another instance's relay would.
                    CountDownLatch holding = new CountDownLatch(1);
                    CountDownLatch release = new CountDownLatch(1);
                    Thread other = new Thread(() -> transactions.executeWithoutResult(status -> {
                        assertThat(store.claim(1, 1).noFreeSlot()).isFalse();
                        holding.countDown();
                        awaitQuietly(release);
                    }));
                    other.start();
                    try {
                        assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();

                        await().atMost(Duration.ofSeconds(10))
                                .until(() -> registry.get("outbox.cycles.without.slot")
                                                .counter()
                                                .count()
                                        >= 3);
                    } finally {
                        release.countDown();
                        other.join(10_000);
                    }
                });
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void withoutMicrometerThereAreNoMeters() {
        this.runner
                .withClassLoader(new FilteredClassLoader(MeterRegistry.class))
                .run(context -> assertThat(context).doesNotHaveBean(OutboxMetrics.class));
    }
}
