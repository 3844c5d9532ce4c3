package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Outbox;
import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
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
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
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
        String large = EmbeddedInfrastructure.newTopic("metrics-large", 1);
        // The writer lets through what the relay's producer refuses for good: it becomes a dead letter.
        this.runner
                .withPropertyValues("outbox.relay.producer.max.request.size=10000", "outbox.max-record-size=1MB")
                .run(context -> {
                    Outbox outbox = context.getBean(Outbox.class);
                    OutboxStore store = context.getBean(OutboxStore.class);
                    TransactionTemplate transactions = new TransactionTemplate(
                            new DataSourceTransactionManager(context.getBean(DataSource.class)));
                    transactions.executeWithoutResult(status -> {
                        for (int i = 0; i < 3; i++) {
                            outbox.write(orders, "order-" + i, "{}");
                        }
                        outbox.write(audit, "audit", "{}");
                    });
                    transactions.executeWithoutResult(status -> outbox.write(large, "poison", new byte[20_000]));
                    MeterRegistry registry = context.getBean(MeterRegistry.class);

                    await().atMost(Duration.ofSeconds(30)).until(() -> store.count() == 0);
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> registry.get("outbox.events.dead.lettered")
                                            .tag("topic", large)
                                            .counter()
                                            .count()
                                    == 1);

                    assertThat(registry.get("outbox.events.written")
                                    .tag("topic", orders)
                                    .counter()
                                    .count())
                            .isEqualTo(3);
                    assertThat(registry.get("outbox.events.written")
                                    .tag("topic", large)
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
                                    .tag("topic", large)
                                    .counter()
                                    .count())
                            .isEqualTo(1);
                    assertThat(registry.get("outbox.send.failures")
                                    .tag("kind", "permanent")
                                    .tag("reason", "RecordTooLargeException")
                                    .counter()
                                    .count())
                            .isEqualTo(1);
                    assertThat(registry.get("outbox.publish.latency").timer().count())
                            .isEqualTo(4);
                    assertThat(registry.get("outbox.publish.latency").timer().max(TimeUnit.MILLISECONDS))
                            .isPositive();
                    assertThat(registry.get("outbox.batch.size").summary().totalAmount())
                            .isGreaterThanOrEqualTo(5);
                    assertThat(registry.get("outbox.rows.waiting").gauge().value())
                            .isZero();
                    assertThat(registry.get("outbox.oldest.row.age").timeGauge().value(TimeUnit.SECONDS))
                            .isZero();
                    assertThat(registry.get("outbox.dead.letters").gauge().value())
                            .isEqualTo(1);
                    assertThat(registry.get("outbox.keys.parked").gauge().value())
                            .isEqualTo(1);
                    assertThat(registry.get("outbox.topics.unavailable").gauge().value())
                            .isZero();
                });
    }

    @Test
    void failedSendsAreCountedByKindAndTopicsUnavailableNowAreAGauge() {
        this.runner.withPropertyValues("outbox.relay.enabled=false").run(context -> {
            OutboxMetrics metrics = context.getBean(OutboxMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            Exception noLeader = new NotLeaderOrFollowerException("This server is not the leader for that partition");
            metrics.sendFailed(record("orders"), noLeader, FailureKind.UNAVAILABLE);
            metrics.sendFailed(record("orders"), noLeader, FailureKind.UNAVAILABLE);
            metrics.sendFailed(record("audit"), new TopicAuthorizationException("audit"), FailureKind.UNAVAILABLE);
            metrics.sendFailed(record("large"), new RecordTooLargeException("too large"), FailureKind.PERMANENT);
            metrics.sendFailed(record("orders"), new IllegalStateException("odd"), FailureKind.TRANSIENT);

            assertThat(registry.get("outbox.topics.unavailable").gauge().value())
                    .isEqualTo(2);
            assertThat(registry.get("outbox.send.failures")
                            .tag("kind", "unavailable")
                            .counters())
                    .extracting(counter -> counter.getId().getTag("reason"), counter -> counter.count())
                    .containsExactlyInAnyOrder(
                            tuple("NotLeaderOrFollowerException", 2.0), tuple("TopicAuthorizationException", 1.0));
            assertThat(registry.get("outbox.send.failures")
                            .tag("kind", "permanent")
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.get("outbox.send.failures")
                            .tag("kind", "transient")
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.find("outbox.send.failures")
                            .tagKeys("permanent")
                            .counters())
                    .isEmpty();
        });
    }

    @Test
    void aTopicsCountersExistAtZeroFromTheFirstEventThisInstanceWritesOrRelays() {
        this.runner.withPropertyValues("outbox.relay.enabled=false").run(context -> {
            OutboxMetrics metrics = context.getBean(OutboxMetrics.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(registry.find("outbox.events.dead.lettered").counters()).isEmpty();

            metrics.written(Map.of("orders", 2));
            metrics.published(record("audit"), Instant.now());
            metrics.sendFailed(record("large"), new IllegalStateException("odd"), FailureKind.TRANSIENT);

            // Scraped at zero before a topic's first dead letter, so that increase() shows that one.
            assertThat(registry.get("outbox.events.dead.lettered").counters())
                    .extracting(counter -> counter.getId().getTag("topic"), counter -> counter.count())
                    .containsExactlyInAnyOrder(tuple("orders", 0.0), tuple("audit", 0.0), tuple("large", 0.0));
            assertThat(registry.get("outbox.events.published").counters())
                    .extracting(counter -> counter.getId().getTag("topic"), counter -> counter.count())
                    .containsExactlyInAnyOrder(tuple("orders", 0.0), tuple("audit", 1.0), tuple("large", 0.0));
            assertThat(registry.get("outbox.events.written").counters())
                    .extracting(counter -> counter.getId().getTag("topic"), counter -> counter.count())
                    .containsExactlyInAnyOrder(tuple("orders", 2.0), tuple("audit", 0.0), tuple("large", 0.0));

            metrics.deadLettered(record("large"), "odd, 10 attempts");
            assertThat(registry.get("outbox.events.dead.lettered")
                            .tag("topic", "large")
                            .counter()
                            .count())
                    .isEqualTo(1);
        });
    }

    @Test
    void theUnavailableTopicsGaugeForgetsATopicOnceItsFailuresAreOlderThanTheRelaysRetryPeriod() {
        this.runner.withPropertyValues("outbox.relay.enabled=false").run(context -> {
            MutableClock clock = new MutableClock();
            MeterRegistry registry = new SimpleMeterRegistry();
            Duration retryPeriod = Duration.ofMinutes(5);
            OutboxMetrics metrics =
                    new OutboxMetrics(registry, context.getBean(OutboxStatisticsCache.class), clock, retryPeriod);
            Exception noLeader = new NotLeaderOrFollowerException("This server is not the leader for that partition");
            metrics.sendFailed(record("orders"), noLeader, FailureKind.UNAVAILABLE);
            metrics.sendFailed(record("audit"), new TopicAuthorizationException("audit"), FailureKind.UNAVAILABLE);

            metrics.published(record("orders"), clock.instant());
            assertThat(registry.get("outbox.topics.unavailable").gauge().value())
                    .as("an acknowledgement right after a failure may be of another partition")
                    .isEqualTo(2);

            clock.advance(Duration.ofMinutes(6));
            metrics.published(record("orders"), clock.instant());
            assertThat(registry.get("outbox.topics.unavailable").gauge().value())
                    .as("a topic acknowledged a retry period after its last failure takes records again")
                    .isEqualTo(1);

            clock.advance(Duration.ofMinutes(5));
            assertThat(registry.get("outbox.topics.unavailable").gauge().value())
                    .as("a topic whose sends failed no more for two retry periods, here or elsewhere, is forgotten")
                    .isZero();
        });
    }

    private static OutboxRecord record(String topic) {
        return new OutboxRecord(1, UUID.randomUUID(), topic, "k", "T", null, Map.of(), Instant.now(), 0, Instant.now());
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
                        // The statement that starts a cycle takes a slot for as long as its transaction lasts (so it
                        // runs in this thread, the transaction's); the relay's own cycles hold the only one now and
                        // then, until they end.
                        await().atMost(Duration.ofSeconds(10))
                                .pollInSameThread()
                                .until(
                                        () -> JdbcClient.create(store.dataSource())
                                                .sql(store.dialect().startCycle(store.table()))
                                                .param("synchronousCommit", true)
                                                .param("timeoutMillis", 60_000)
                                                .param("slots", 1)
                                                .param("table", store.table().value())
                                                .query()
                                                .singleRow()
                                                .get("slot"),
                                        slot -> Integer.valueOf(0).equals(slot));
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
