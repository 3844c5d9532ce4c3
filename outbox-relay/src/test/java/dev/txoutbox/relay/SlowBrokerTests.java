package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.ForwardingRecordPublisher;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.ProxiedBroker;
import dev.txoutbox.testing.TcpProxy;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay and a broker that is slow or gone, through a proxy: a copy given up on never lands after a later record
 * of its key, and stopping the relay fits a container's grace period. On each database.
 */
abstract class SlowBrokerTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private static TcpProxy proxy;

    private static ProxiedBroker broker;

    private static String bootstrap;

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final TestDatabase database;

    private final RelayMode mode;

    SlowBrokerTests(TestDatabase database) {
        this(database, RelayMode.POLL);
    }

    SlowBrokerTests(TestDatabase database, RelayMode mode) {
        this.database = database;
        this.mode = mode;
    }

    @BeforeAll
    static void startBrokerBehindProxy() {
        broker = ProxiedBroker.start();
        proxy = broker.proxy();
        bootstrap = broker.bootstrapServers();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @AfterEach
    void stopRelays() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
        proxy.delayToServer(Duration.ZERO);
        // A test that failed while the broker was cut off leaves it reachable for the next.
        proxy.restore();
    }

    private OutboxStore newStore() {
        return this.mode.newStore(this.database);
    }

    private OutboxRelay newRelay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        return this.mode.newRelay(store, publisher, settings, List.of());
    }

    /**
     * Whether the relays run single cycles on demand ({@link OutboxRelay#relayOnce()}): a relay in log mode runs
     * them as a polling relay would, so a test of them is poll mode's only.
     */
    private boolean cyclesOnDemand() {
        return this.mode == RelayMode.POLL;
    }

    @Test
    void aRecordGivenUpOnWhileTheBrokerIsSlowNeverLandsAfterALaterTombstoneOfItsKey() {
        assumeTrue(cyclesOnDemand(), "the test drives relay A one cycle at a time");
        String topic = newTopic("slow");
        OutboxStore store = OutboxTestTables.newStore(this.database);
        RelaySettings settingsA = RelaySettings.builder()
                .sendTimeout(Duration.ofSeconds(2))
                .retry(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1))
                .build();
        // The user gave the producer more time than the relay's send timeout: it keeps trying after the relay gave
        // up, and a copy it sends may land late.
        OutboxRelay relayA = new OutboxRelay(
                store,
                publisher(Map.of(
                        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "6000",
                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "8000")),
                settingsA);
        store.insert(event(topic, "warm-up", "{}"));
        assertThat(relayA.relayOnce().published())
                .as("relay A knows the broker before it turns slow")
                .isEqualTo(1);

        proxy.delayToServer(Duration.ofSeconds(4));
        store.insert(event(topic, "order-1", "{\"version\":1}"));
        store.insert(new NewRecord(UUID.randomUUID(), topic, "order-1", "OrderDeleted", null, Map.of()));
        OutboxRelay.CycleResult gaveUp = relayA.relayOnce();
        proxy.delayToServer(Duration.ZERO);

        assertThat(gaveUp.failed())
                .as("relay A gave up waiting for the first record")
                .isEqualTo(1);
        RelaySettings settingsB =
                RelaySettings.builder().pollInterval(Duration.ofMillis(50)).build();
        OutboxRelay relayB = new OutboxRelay(store, publisher(Map.of()), settingsB);
        this.relays.add(relayB);
        relayB.start();
        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        try (TopicReader reader = new TopicReader(bootstrap, topic)) {
            // The warm-up, the copy relay A's producer delivered late, relay B's copy, and the tombstone.
            List<ConsumerRecord<String, byte[]>> records = reader.awaitRecords(4, TIMEOUT);
            List<String> order1 = records.stream()
                    .filter(record -> "order-1".equals(record.key()))
                    .map(record -> record.value() == null ? "tombstone" : new String(record.value()))
                    .toList();
            assertThat(order1).last().as("every copy of order-1 in %s", order1).isEqualTo("tombstone");
        }
    }

    @Test
    void stopReturnsSoonAfterTheShutdownTimeoutWhileTheBrokerIsGoneAndLosesNothing() {
        String topic = newTopic("stopping");
        OutboxStore store = newStore();
        // The default send timeout of 30 s; a producer that would keep trying for longer than the stop may take (the
        // shutdown timeout and 5 s of grace), but no longer, since the rows of the records in flight wait that long.
        RelaySettings settings = RelaySettings.builder()
                .pollInterval(Duration.ofMillis(50))
                .shutdownTimeout(Duration.ofSeconds(2))
                .build();
        RecordPublisher kafka = publisher(Map.of(
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "1000",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "12000"));
        AtomicInteger sends = new AtomicInteger();
        RecordPublisher counting = new ForwardingRecordPublisher(kafka) {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                sends.incrementAndGet();
                return super.publish(record);
            }
        };
        OutboxRelay relay =
                newRelay(store, counting, settings.toBuilder().concurrency(1).build());
        store.insert(event(topic, "warm-up", "{}"));
        relay.start();
        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        proxy.cut();
        for (int i = 0; i < 20; i++) {
            store.insert(event(topic, "key-" + (i % 4), "{\"seq\":" + (i / 4) + "}"));
        }
        await().atMost(TIMEOUT).until(() -> sends.get() > 1);
        long start = System.nanoTime();
        relay.stop();
        Duration stopping = Duration.ofNanos(System.nanoTime() - start);

        // A stop returns after the shutdown timeout and 5 s of grace at the latest, leaving behind a thread that
        // still waits for the broker (as one blocked in the producer's send does); one that waited for the producer
        // to give up would take the delivery timeout.
        assertThat(stopping).isLessThan(Duration.ofSeconds(10));
        assertThat(store.count()).as("nothing lost").isEqualTo(20);

        proxy.restore();
        OutboxRelay next = newRelay(store, publisher(Map.of()), settings);
        this.relays.add(next);
        next.start();
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader reader = new TopicReader(bootstrap, topic)) {
            assertThat(reader.awaitRecords(21, TIMEOUT)).hasSizeGreaterThanOrEqualTo(21);
        }
    }

    private static String newTopic(String prefix) {
        String topic = prefix + "-" + UUID.randomUUID();
        broker.addTopics(new NewTopic(topic, 1, (short) 1));
        return topic;
    }

    /**
     * A Kafka publisher through the proxy whose {@link RecordPublisher#maxDeliveryTime()} is what its producer's
     * settings allow: the delivery timeout, plus a request timeout for a request already on the wire.
     */
    private RecordPublisher publisher(Map<String, Object> producerConfig) {
        Map<String, Object> config = new HashMap<>(producerConfig);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "200");
        KafkaRecordPublisher kafka = KafkaRecordPublisher.create(config, RelaySettings.defaults());
        this.closeables.add(kafka);
        Map<String, Object> effective = kafka.producerConfiguration();
        Duration maxDeliveryTime = Duration.ofMillis(Long.parseLong(
                        effective.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG).toString())
                + Long.parseLong(
                        effective.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG).toString()));
        return new ForwardingRecordPublisher(kafka) {
            @Override
            public Duration maxDeliveryTime() {
                return maxDeliveryTime;
            }
        };
    }
}
