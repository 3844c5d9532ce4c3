package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.ProxiedBroker;
import dev.txoutbox.testing.TcpProxy;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.KafkaException;

/**
 * A destination that is not available now is not a poison event: through an outage longer than the retry budget,
 * and for a topic created after its events were written, the relay keeps retrying with the default settings and
 * dead-letters nothing. On each database.
 */
abstract class BrokerOutageTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(180);

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final TestDatabase database;

    private final RelayMode mode;

    BrokerOutageTests(TestDatabase database) {
        this(database, RelayMode.POLL);
    }

    BrokerOutageTests(TestDatabase database, RelayMode mode) {
        this.database = database;
        this.mode = mode;
    }

    private OutboxStore newStore() {
        return this.mode.newStore(this.database);
    }

    private OutboxRelay newRelay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        return this.mode.newRelay(store, publisher, settings, List.of());
    }

    private OutboxRelay newRelay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners) {
        return this.mode.newRelay(store, publisher, settings, listeners);
    }

    @AfterEach
    void stopEverything() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
    }

    @Test
    void anOutageLongerThanTheRetryBudgetDeadLettersNothingAndEveryKeyArrivesCompleteAndInOrder() {
        ProxiedBroker broker = brokerBehindProxy();
        TcpProxy proxy = broker.proxy();
        String bootstrap = broker.bootstrapServers();
        String topic = "outage";
        // The retry budget as configured by default: only the delays between attempts, and how long one attempt
        // waits, are shortened, so that the outage outlasts ten attempts of every key within the test's time. While
        // the producer has lost the cluster's metadata, each send blocks for max.block.ms, so a cycle gets only a few
        // keys out; the longest delay, longer than a cycle as the default's five minutes are, lets every key's turn
        // come.
        RelaySettings settings = RelaySettings.builder()
                .sendTimeout(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(50))
                .retry(Duration.ofMillis(50), 2.0, Duration.ofSeconds(4))
                .build();
        assertThat(settings.maxAttempts()).isEqualTo(RelaySettings.DEFAULT_MAX_ATTEMPTS);
        OutboxStore store = newStore();
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Queue<FailureKind> kinds = new ConcurrentLinkedQueue<>();
        OutboxRelayListener failures = new OutboxRelayListener() {
            @Override
            public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
                errors.add(error);
                kinds.add(kind);
            }
        };
        OutboxRelay relay = newRelay(store, publisher(bootstrap, settings), settings, List.of(failures));
        this.relays.add(relay);
        relay.start();
        store.insert(event(topic, "before", "{\"seq\":0}"));
        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        proxy.cut();
        int keys = 6;
        int eventsPerKey = 4;
        for (int seq = 0; seq < eventsPerKey; seq++) {
            for (int key = 0; key < keys; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        DeadLetters deadLetters = new DeadLetters(store.dataSource(), store.dialect(), store.table());
        await().atMost(TIMEOUT)
                .until(() -> deadLetters.count() > 0 || firstRowsFailedMoreThan(jdbc, settings.maxAttempts()) == keys);

        assertThat(deadLetters.count())
                .as("no event of the outage is a dead letter")
                .isZero();
        assertThat(store.count()).isEqualTo(keys * eventsPerKey);
        assertThat(kinds)
                .as("every failure says the destination is unavailable")
                .containsOnly(FailureKind.UNAVAILABLE);
        assertThat(errors)
                .as("failures reported by the Kafka producer itself, not only the relay's own send timeout")
                .anyMatch(error -> !(error instanceof FailureDecisions.SendTimeoutException));

        proxy.restore();

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(deadLetters.count()).isZero();
        try (TopicReader reader = new TopicReader(bootstrap, topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries().remove("before")).containsExactly(0);
            assertThat(sequences.firstDeliveries()).hasSize(keys);
            assertThat(sequences.keysNotCompleteAndInOrder(eventsPerKey)).isEmpty();
        }
    }

    @Test
    void eventsWrittenBeforeTheirTopicExistsArePublishedOnceItIsCreatedAndNoneIsDeadLettered() {
        // The shared broker does not create topics on first use, as production clusters often do not.
        String topic = "created-later-" + UUID.randomUUID();
        OutboxStore store = newStore();
        int keys = 3;
        int eventsPerKey = 4;
        for (int seq = 0; seq < eventsPerKey; seq++) {
            for (int key = 0; key < keys; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        RelaySettings settings = RelaySettings.builder()
                .sendTimeout(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(50))
                .retry(Duration.ofMillis(50), 2.0, Duration.ofMillis(500))
                .build();
        OutboxRelay relay =
                newRelay(store, publisher(EmbeddedInfrastructure.kafkaBootstrapServers(), settings), settings);
        this.relays.add(relay);
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        DeadLetters deadLetters = new DeadLetters(store.dataSource(), store.dialect(), store.table());

        relay.start();

        await().atMost(TIMEOUT)
                .until(() -> deadLetters.count() > 0
                        || jdbc.sql("SELECT count(*) FROM outbox_event WHERE attempts >= 2")
                                        .query(Long.class)
                                        .single()
                                > 0);
        assertThat(deadLetters.count())
                .as("a missing topic is not a poison event")
                .isZero();

        EmbeddedInfrastructure.kafka().addTopics(new NewTopic(topic, 2, (short) 1));

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(deadLetters.count()).isZero();
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(keys * eventsPerKey, TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(keys);
            assertThat(sequences.keysNotCompleteAndInOrder(eventsPerKey)).isEmpty();
        }
    }

    @Test
    void closingThePublisherWithTheBrokerUnreachableAndRecordsPendingReturnsWithinSeconds() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "the publisher alone, without a database: once is enough");
        PendingRecords cutOff = recordsPendingBehindACut();

        assertClosesWithinSecondsAndFailsThePendingRecords(cutOff);
    }

    @Test
    void closingThePublisherWhileItsFlushWaitsForAnUnreachableBrokerReturnsWithinSeconds() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "the publisher alone, without a database: once is enough");
        PendingRecords cutOff = recordsPendingBehindACut();
        Set<Thread> othersFlushThreads = flushThreads().collect(Collectors.toSet());
        // As after a cycle that did not fill its batch: the flush waits for records the broker cannot acknowledge.
        cutOff.publisher().sendBuffered();
        AtomicReference<Thread> flushThread = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            flushThreads()
                    .filter(thread -> !othersFlushThreads.contains(thread))
                    .filter(BrokerOutageTests::waitsInFlush)
                    .findFirst()
                    .ifPresent(flushThread::set);
            return flushThread.get() != null;
        });

        assertClosesWithinSecondsAndFailsThePendingRecords(cutOff);
        await().atMost(Duration.ofSeconds(10))
                .alias("the publisher's flush thread ends with it")
                .until(() -> !flushThread.get().isAlive());
    }

    /**
     * A publisher to a broker of its own that has served the topic once and is then cut off, with records handed to
     * it since, none acknowledged.
     */
    private PendingRecords recordsPendingBehindACut() {
        ProxiedBroker broker = brokerBehindProxy();
        TcpProxy proxy = broker.proxy();
        String bootstrap = broker.bootstrapServers();
        String topic = "outage";
        // The default send timeout: the producer holds on to its records for as long, unless closing ends that.
        KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), RelaySettings.defaults());
        this.closeables.add(publisher);
        OutboxRecord warmUp = record(topic, 0);
        // A new broker on a busy machine may take a while to serve the topic's metadata.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            publisher.publish(warmUp).get();
            return true;
        });
        proxy.cut();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int n = 1; n <= 20; n++) {
            try {
                pending.add(publisher.publish(record(topic, n)));
            } catch (KafkaException ex) {
                // Now and then the producer has dropped the topic's metadata by the time of the cut, and refuses the
                // send after max.block.ms instead of holding the record: then no record is pending, which is what this
                // test is about, and it says so rather than pass or fail on something else.
                assumeTrue(false, "the producer lost the topic's metadata at the cut, and no record is pending: " + ex);
            }
        }
        assertThat(pending).noneMatch(CompletableFuture::isDone);
        return new PendingRecords(publisher, pending);
    }

    private static void assertClosesWithinSecondsAndFailsThePendingRecords(PendingRecords cutOff) {
        // Well within a container's grace period; preemptively, so that a close that never returns fails too.
        assertTimeoutPreemptively(
                Duration.ofSeconds(10), () -> cutOff.publisher().close());
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(
                        () -> assertThat(cutOff.pending()).allMatch(CompletableFuture::isCompletedExceptionally));
    }

    private static Stream<Thread> flushThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("outbox-relay-producer-flush"));
    }

    /** A publisher and the futures of the records it holds. */
    private record PendingRecords(KafkaRecordPublisher publisher, List<CompletableFuture<?>> pending) {}

    /** Whether the thread waits inside the producer's {@code flush()}. */
    private static boolean waitsInFlush(Thread thread) {
        return thread.getState() == Thread.State.WAITING
                && Arrays.stream(thread.getStackTrace())
                        .anyMatch(frame -> frame.getClassName().startsWith("org.apache.kafka")
                                && frame.getMethodName().equals("flush"));
    }

    private static int firstRowsFailedMoreThan(JdbcClient jdbc, int attempts) {
        return jdbc.sql("""
                        SELECT count(*) FROM outbox_event o
                        WHERE o.attempts > ?
                          AND o.id = (SELECT min(id) FROM outbox_event f WHERE f.record_key = o.record_key)
                        """).param(attempts).query(Integer.class).single();
    }

    /** A broker of its own behind a proxy, with the topic {@code outage}. */
    private ProxiedBroker brokerBehindProxy() {
        ProxiedBroker broker = ProxiedBroker.start(new NewTopic("outage", 2, (short) 1));
        this.closeables.add(broker);
        return broker;
    }

    private KafkaRecordPublisher publisher(String bootstrapServers, RelaySettings settings) {
        KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
                        "200"),
                settings);
        this.closeables.add(publisher);
        return publisher;
    }

    private static OutboxRecord record(String topic, int seq) {
        java.time.Instant now = java.time.Instant.now();
        return new OutboxRecord(
                seq,
                UUID.randomUUID(),
                topic,
                "key",
                "TestEvent",
                ("{\"seq\":" + seq + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Map.of(),
                now,
                0,
                now);
    }
}
