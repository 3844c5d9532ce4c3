package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.ProxiedBroker;
import dev.txoutbox.testing.TcpProxy;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The relay under the faults of production: many relays and writers with failing sends, a broker outage, database
 * connections that drop. (A relay process killed between send and delete: {@link KilledRelayProcessTests}; a cycle
 * whose session is killed after the acknowledgements: {@link RelayRecoveryTests}.) In each, nothing is lost and every key's
 * events reach Kafka complete and in order (counting first deliveries, as a de-duplicating consumer does). On each
 * database.
 */
abstract class RelayFaultTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private static final String RELAY_SESSIONS = "outbox-relay-under-test";

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final TestDatabase database;

    private final RelayMode mode;

    RelayFaultTests(TestDatabase database) {
        this(database, RelayMode.POLL);
    }

    RelayFaultTests(TestDatabase database, RelayMode mode) {
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

    private static void pauseBeforeRetrying(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 10L * attempt));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void fourRelaysAndFourWritersWithRandomSendFailuresDeliverEveryKeyCompleteAndInOrder() throws Exception {
        int writers = 4;
        int keysPerWriter = 50;
        int eventsPerKey = 25;
        OutboxStore store = newStore();
        String topic = EmbeddedInfrastructure.newTopic("faults", 4);
        KafkaRecordPublisher kafka = kafka(EmbeddedInfrastructure.kafkaBootstrapServers(), RelaySettings.defaults());
        AtomicInteger failedBeforeSending = new AtomicInteger();
        AtomicInteger failedAfterSending = new AtomicInteger();
        // One send in ten fails before it reaches the broker, one in twenty is reported failed after the broker
        // took it (as when the acknowledgement is lost): the first is retried, the second also duplicates.
        RecordPublisher flaky = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(dev.txoutbox.store.OutboxRecord record) {
                double dice = ThreadLocalRandom.current().nextDouble();
                if (dice < 0.10) {
                    failedBeforeSending.incrementAndGet();
                    return CompletableFuture.failedFuture(new IllegalStateException("injected: connection reset"));
                }
                CompletableFuture<?> sent = kafka.publish(record);
                if (dice < 0.15) {
                    failedAfterSending.incrementAndGet();
                    return sent.thenCompose(
                            ack -> CompletableFuture.failedFuture(new IllegalStateException("injected: ack lost")));
                }
                return sent;
            }
        };
        RelaySettings settings = RelaySettings.builder()
                .batchSize(100)
                .pollInterval(Duration.ofMillis(20))
                .retry(Duration.ofMillis(5), 2.0, Duration.ofMillis(50))
                .maxAttempts(1_000)
                .build();
        for (int i = 0; i < 4; i++) {
            OutboxRelay relay = newRelay(store, flaky, settings);
            this.relays.add(relay);
            relay.start();
        }

        ExecutorService writerThreads = Executors.newFixedThreadPool(writers);
        TransactionTemplate transactions =
                new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));
        List<Future<?>> writing = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            writing.add(writerThreads.submit(() -> {
                for (int seq = 0; seq < eventsPerKey; seq++) {
                    int n = seq;
                    // On MariaDB and MySQL keys share lock rows by hash: two writers that each lock several keys
                    // can each wait for a row the other holds, and the database rolls one back as a deadlock
                    // victim. Nothing of it was written, so the writer tries again after a random pause, as an
                    // application would.
                    for (int attempt = 1; ; attempt++) {
                        try {
                            transactions.executeWithoutResult(status -> {
                                for (int k = 0; k < keysPerWriter; k++) {
                                    store.insert(event(topic, "w" + writer + "-k" + k, "{\"seq\":" + n + "}"));
                                }
                            });
                            break;
                        } catch (PessimisticLockingFailureException deadlock) {
                            if (attempt == 30) {
                                throw deadlock;
                            }
                            pauseBeforeRetrying(attempt);
                        }
                    }
                }
            }));
        }
        for (Future<?> done : writing) {
            done.get();
        }
        writerThreads.shutdown();

        int events = writers * keysPerWriter * eventsPerKey;
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(writers * keysPerWriter);
            assertThat(sequences.keysNotCompleteAndInOrder(eventsPerKey)).isEmpty();
            assertThat(failedBeforeSending.get()).isPositive();
            assertThat(failedAfterSending.get()).isPositive();
        }
        assertThat(new DeadLetters(store.dataSource(), store.dialect(), store.table()).count())
                .isZero();
    }

    @Test
    void aKafkaOutageLongerThanTheRetryBudgetKeepsRowsWaitingInShortTransactionsAndMakesNoDeadLetters()
            throws Exception {
        // A broker of its own whose clients all go through a proxy.
        String topic = "outage";
        ProxiedBroker broker = ProxiedBroker.start(new NewTopic(topic, 2, (short) 1));
        this.closeables.add(broker);
        TcpProxy proxy = broker.proxy();
        String bootstrap = broker.bootstrapServers();
        OutboxStore store = newStore();
        // The default retry settings, with shorter delays: the outage below outlasts the attempts that a transient
        // failure gets before it becomes a dead letter.
        RelaySettings settings = RelaySettings.builder()
                .sendTimeout(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(50))
                .retry(Duration.ofMillis(50), 2.0, Duration.ofMillis(250))
                .build();
        CycleOutcomes cycles = new CycleOutcomes();
        OutboxRelay relay = newRelay(store, kafka(bootstrap, settings), settings, List.of(cycles));
        this.relays.add(relay);
        relay.start();
        store.insert(event(topic, "before", "{\"seq\":0}"));
        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        proxy.cut();
        for (int seq = 0; seq < 20; seq++) {
            for (int key = 0; key < 10; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        await().atMost(TIMEOUT)
                .until(() -> jdbc.sql("SELECT count(*) FROM outbox_event WHERE attempts > 1")
                                .query(Long.class)
                                .single()
                        > 0);
        // The bound: a claim, at most the send timeout of sending, a delete; with room for a slow machine.
        Duration bound = settings.sendTimeout().plusSeconds(3);
        await().during(Duration.ofSeconds(6))
                .atMost(Duration.ofSeconds(10))
                .until(() -> this.database.longestOpenTransaction(jdbc).compareTo(bound) < 0);
        DeadLetters deadLetters = new DeadLetters(store.dataSource(), store.dialect(), store.table());
        await().atMost(TIMEOUT)
                .until(() -> deadLetters.count() > 0
                        || jdbc.sql("SELECT coalesce(max(attempts), 0) FROM outbox_event")
                                        .query(Integer.class)
                                        .single()
                                >= settings.maxAttempts());
        assertThat(cycles.sendsFailed())
                .as("sends that failed during the outage")
                .isPositive();
        assertThat(deadLetters.count())
                .as("dead letters after an outage longer than the retry budget")
                .isZero();
        assertThat(store.count()).as("nothing published, nothing lost").isEqualTo(200);

        proxy.restore();

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader reader = new TopicReader(bootstrap, topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries().remove("before")).containsExactly(0);
            assertThat(sequences.firstDeliveries()).hasSize(10);
            assertThat(sequences.keysNotCompleteAndInOrder(20)).isEmpty();
        }
    }

    @Test
    void whenDatabaseConnectionsDropUnderTheRelayItRecoversOnItsOwn() throws Exception {
        OutboxStore[] stores = writerAndRelayStores();
        OutboxStore writerStore = stores[0];
        OutboxStore relayStore = stores[1];
        String topic = EmbeddedInfrastructure.newTopic("dropped", 2);
        RelaySettings settings = RelaySettings.builder()
                .batchSize(20)
                .pollInterval(Duration.ofMillis(20))
                .retry(Duration.ofMillis(10), 2.0, Duration.ofMillis(100))
                .build();
        CycleOutcomes cycles = new CycleOutcomes();
        OutboxRelay relay = newRelay(
                relayStore, kafka(EmbeddedInfrastructure.kafkaBootstrapServers(), settings), settings, List.of(cycles));
        this.relays.add(relay);
        relay.start();
        JdbcClient observer = JdbcClient.create(writerStore.dataSource());
        // The relay's pool connects on its first cycle; cut only once there is a session to cut. In log mode, only
        // once the relay reads the log too: a cut while it still opens the slot fails the opening, which the relay
        // tries again while it polls the table, and the rows could all go out before a cycle met a cut session.
        await().atMost(TIMEOUT)
                .until(() -> relaySessions(observer) > 0
                        && (relay.logRole() == null || relay.logRole() == OutboxRelay.LogRole.READING));

        int cuts = 0;
        for (int seq = 0; seq < 30; seq++) {
            for (int key = 0; key < 20; key++) {
                writerStore.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
            // The last rows are written after the last cut: the relay must publish them once it recovered.
            if (seq % 5 == 4 && seq < 25) {
                cuts += this.database.terminateSessions(observer, RELAY_SESSIONS);
            }
        }

        await().atMost(TIMEOUT).until(() -> writerStore.count() == 0);
        assertThat(cuts).as("relay sessions were cut").isPositive();
        assertThat(cycles.failed()).as("cycles that failed on a cut session").isPositive();
        assertThat(cycles.publishingSinceLastFailure())
                .as("cycles that published after the last failure")
                .isPositive();
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(20);
            assertThat(sequences.keysNotCompleteAndInOrder(30)).isEmpty();
        }
        assertThat(relay.isRunning()).isTrue();
    }

    /**
     * Two views of one new outbox table: the writers' and the relay's, whose sessions carry an application name of
     * their own so that a test can cut them.
     */
    private OutboxStore[] writerAndRelayStores() {
        String url = this.database.newDatabaseUrl();
        OutboxStore writerStore =
                OutboxTestTables.migratedStore(closing(EmbeddedInfrastructure.dataSource(url, "writer")));
        OutboxStore relayStore = new OutboxStore(
                closing(this.database.namedSessions(url, RELAY_SESSIONS)), writerStore.dialect(), writerStore.table());
        return new OutboxStore[] {writerStore, relayStore};
    }

    /** How many sessions the relay has open, counted as {@link TestDatabase#terminateSessions} finds them. */
    private int relaySessions(JdbcClient observer) {
        return this.database == TestDatabase.POSTGRESQL
                ? observer.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")
                        .param(RELAY_SESSIONS)
                        .query(Integer.class)
                        .single()
                : observer.sql("SELECT count(*) FROM information_schema.processlist WHERE user = ? AND db = DATABASE()")
                        .param(RELAY_SESSIONS)
                        .query(Integer.class)
                        .single();
    }

    private KafkaRecordPublisher kafka(String bootstrapServers, RelaySettings settings) {
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

    private HikariDataSource closing(HikariDataSource dataSource) {
        this.closeables.add(dataSource);
        return dataSource;
    }

    /** Counts the cycles that failed, the sends that failed, and the cycles that published since the last failure. */
    private static final class CycleOutcomes implements OutboxRelayListener {

        private final AtomicInteger failed = new AtomicInteger();

        private final AtomicInteger sendsFailed = new AtomicInteger();

        private final AtomicInteger publishingSinceLastFailure = new AtomicInteger();

        @Override
        public void cycleFailed(Throwable error) {
            this.failed.incrementAndGet();
            this.publishingSinceLastFailure.set(0);
        }

        @Override
        public void cycleCompleted(OutboxRelay.CycleResult result) {
            if (result.published() > 0) {
                this.publishingSinceLastFailure.incrementAndGet();
            }
        }

        @Override
        public void sendFailed(dev.txoutbox.store.OutboxRecord record, Throwable error, FailureKind kind) {
            this.sendsFailed.incrementAndGet();
        }

        int failed() {
            return this.failed.get();
        }

        int sendsFailed() {
            return this.sendsFailed.get();
        }

        int publishingSinceLastFailure() {
            return this.publishingSinceLastFailure.get();
        }
    }
}
