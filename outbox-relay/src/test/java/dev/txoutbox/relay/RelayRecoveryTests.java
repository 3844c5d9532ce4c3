package dev.txoutbox.relay;

import static dev.txoutbox.testing.Reflection.invoke;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The relay recovers from what would otherwise stop it or make it send the same records again and again: a database
 * default isolation level it does not expect, a session killed between its sends and its commit, an {@link Error}
 * from a publisher or a listener. On each database.
 */
@ExtendWith(OutputCaptureExtension.class)
abstract class RelayRecoveryTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final String RELAY_SESSIONS = "outbox-relay-recovering";

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final TestDatabase database;

    RelayRecoveryTests(TestDatabase database) {
        this.database = database;
    }

    @AfterEach
    void stopEverything() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
    }

    @Test
    void withADatabaseDefaultOfRepeatableReadConcurrentCyclesNeverFailAndKeepKeyOrder() throws SQLException {
        String url = this.database.newDatabaseUrl();
        String isolation;
        if (this.database == TestDatabase.POSTGRESQL) {
            try (Connection connection = EmbeddedInfrastructure.postgres()
                            .getPostgresDatabase()
                            .getConnection();
                    Statement statement = connection.createStatement()) {
                String database = url.substring(url.lastIndexOf('/') + 1).replaceAll("\\?.*", "");
                statement.execute(
                        "ALTER DATABASE " + database + " SET default_transaction_isolation = 'repeatable read'");
            }
            isolation = "SHOW default_transaction_isolation";
        } else {
            // REPEATABLE READ is MariaDB's and MySQL's own default.
            isolation = "SELECT LOWER(REPLACE(@@transaction_isolation, '-', ' '))";
        }
        IsolationLookUps lookUps = new IsolationLookUps(closing(EmbeddedInfrastructure.dataSource(url, "rr")));
        OutboxStore store = OutboxTestTables.migratedStore(lookUps.dataSource());
        assertThat(JdbcClient.create(store.dataSource())
                        .sql(isolation)
                        .query(String.class)
                        .single())
                .isEqualTo("repeatable read");
        String topic = EmbeddedInfrastructure.newTopic("repeatable-read", 4);
        int keys = 40;
        int perKey = 50;
        insertSequences(store, topic, keys, perKey);
        RelaySettings settings = RelaySettings.builder()
                .batchSize(50)
                .pollInterval(Duration.ofMillis(20))
                .concurrency(2)
                .build();
        List<Throwable> cycleFailures = new CopyOnWriteArrayList<>();
        OutboxRelayListener listener = new OutboxRelayListener() {
            @Override
            public void cycleFailed(Throwable error) {
                cycleFailures.add(error);
            }
        };
        int lookUpsBefore = lookUps.count();
        int rollbacksBefore = lookUps.rollbacks();
        for (int i = 0; i < 2; i++) {
            OutboxRelay relay = new OutboxRelay(store, kafka(settings), settings, List.of(listener));
            this.relays.add(relay);
            relay.start();
        }

        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        assertThat(cycleFailures).isEmpty();
        assertThat(lookUps.count() - lookUpsBefore)
                .as("the cycles set READ COMMITTED, which has Spring ask for the connection's level first")
                .isPositive();
        assertThat(lookUps.rollbacks() - rollbacksBefore)
                .as("a claim that finds REPEATABLE READ rolls back, at most once for each thread of each relay: then"
                        + " the relay sets READ COMMITTED")
                .isLessThanOrEqualTo(2 * settings.concurrency());
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(keys * perKey, TIMEOUT));
            assertThat(sequences.keysNotCompleteAndInOrder(perKey)).isEmpty();
            assertThat(sequences.duplicates()).isZero();
        }
    }

    @Test
    void onADataSourceThatStartsAtReadCommittedCyclesDoNotAskForTheIsolationLevel() {
        assumeTrue(
                this.database.dialect().startCycleReportsIsolation(),
                "MariaDB's claim does not report the isolation level: every cycle sets READ COMMITTED");
        HikariDataSource pool = closing(EmbeddedInfrastructure.dataSource(this.database.newDatabaseUrl(), "rc"));
        // MariaDB's and MySQL's default is REPEATABLE READ: the pool sets READ COMMITTED on each connection.
        pool.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        IsolationLookUps lookUps = new IsolationLookUps(pool);
        OutboxStore store = OutboxTestTables.migratedStore(lookUps.dataSource());
        String topic = EmbeddedInfrastructure.newTopic("read-committed", 2);
        OutboxTestTables.insertEvents(store, topic, 10, 5);
        RelaySettings settings = RelaySettings.builder()
                .batchSize(5)
                .pollInterval(Duration.ofMillis(20))
                .build();
        List<Throwable> cycleFailures = new CopyOnWriteArrayList<>();
        OutboxRelay relay = new OutboxRelay(store, kafka(settings), settings, List.of(new OutboxRelayListener() {
            @Override
            public void cycleFailed(Throwable error) {
                cycleFailures.add(error);
            }
        }));
        this.relays.add(relay);
        int before = lookUps.count();
        relay.start();

        await().atMost(TIMEOUT).until(() -> store.count() == 0);

        assertThat(cycleFailures).isEmpty();
        assertThat(lookUps.count() - before)
                .as("a round trip in every cycle, for a level the claim reports anyway")
                .isZero();
    }

    @Test
    void relayOnceInsideACallersTransactionJoinsItWithoutMarkingItForRollback() {
        OutboxStore store = OutboxTestTables.newStore(this.database);
        String topic = EmbeddedInfrastructure.newTopic("relay-once-joined", 1);
        OutboxTestTables.insertEvents(store, topic, 1, 1);
        RelaySettings settings = RelaySettings.defaults();
        OutboxRelay relay = new OutboxRelay(store, kafka(settings), settings, List.of());
        TransactionTemplate caller = new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));

        // MariaDB and MySQL start at REPEATABLE READ, MariaDB's claim reports no level: the caller's level stands.
        Boolean committed = caller.execute(status -> {
            assertThat(relay.relayOnce().published()).isEqualTo(1);
            return !status.isRollbackOnly();
        });

        assertThat(committed).isTrue();
        assertThat(store.count()).isZero();
    }

    /**
     * A DataSource that counts how often its connections are asked for their isolation level (PostgreSQL's driver
     * asks the server each time) and roll back.
     */
    private static final class IsolationLookUps {

        private final DataSource target;

        private final AtomicInteger count = new AtomicInteger();

        private final AtomicInteger rollbacks = new AtomicInteger();

        IsolationLookUps(DataSource target) {
            this.target = target;
        }

        /** How often a connection was asked for its isolation level. */
        int count() {
            return this.count.get();
        }

        /** How many transactions rolled back. */
        int rollbacks() {
            return this.rollbacks.get();
        }

        DataSource dataSource() {
            return (DataSource) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                        Object result = invoke(this.target, method, args);
                        return method.getName().equals("getConnection") ? connection((Connection) result) : result;
                    });
        }

        private Connection connection(Connection target) {
            return (Connection) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                        if (method.getName().equals("getTransactionIsolation")) {
                            this.count.incrementAndGet();
                        } else if (method.getName().equals("rollback")) {
                            this.rollbacks.incrementAndGet();
                        }
                        return invoke(target, method, args);
                    });
        }
    }

    @Test
    void whenTheCyclesSessionIsKilledAfterTheAcknowledgementsTheirRowsAreDeletedAndNotSentAgain() {
        String url = this.database.newDatabaseUrl();
        OutboxStore writerStore =
                OutboxTestTables.migratedStore(closing(EmbeddedInfrastructure.dataSource(url, "writer")));
        OutboxStore relayStore = new OutboxStore(
                closing(this.database.namedSessions(url, RELAY_SESSIONS)), writerStore.dialect(), writerStore.table());
        String topic = EmbeddedInfrastructure.newTopic("killed-session", 2);
        insertSequences(writerStore, topic, 10, 5);
        KafkaRecordPublisher kafka = kafka(RelaySettings.defaults());
        JdbcClient observer = JdbcClient.create(writerStore.dataSource());
        AtomicBoolean armed = new AtomicBoolean();
        // As a pooler's idle-in-transaction timeout does: the session ends after the broker acknowledged the
        // cycle's first record, before the cycle can delete and commit. In every cycle.
        RecordPublisher killingTheSession = record -> {
            CompletableFuture<?> sent = kafka.publish(record);
            if (armed.compareAndSet(true, false)) {
                sent.join();
                this.database.terminateSessions(observer, RELAY_SESSIONS);
            }
            return sent;
        };
        OutboxRelay relay = new OutboxRelay(relayStore, killingTheSession, RelaySettings.defaults());
        AtomicInteger failedCycles = new AtomicInteger();

        await().atMost(TIMEOUT).until(() -> {
            armed.set(true);
            try {
                relay.relayOnce();
            } catch (RuntimeException ex) {
                failedCycles.incrementAndGet();
            }
            return writerStore.count() == 0;
        });

        assertThat(failedCycles.get()).as("the cycles' sessions were killed").isPositive();
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(50, TIMEOUT));
            assertThat(sequences.keysNotCompleteAndInOrder(5)).isEmpty();
            assertThat(reader.endOffsetTotal()).as("each record published once").isEqualTo(50);
        }
    }

    @Test
    void anErrorFromThePublisherFailsOnlyItsCycleAndTheRelayGoesOn() {
        OutboxStore store = OutboxTestTables.newStore(this.database);
        OutboxTestTables.insertEvents(store, "errors", 20, 5);
        AtomicBoolean thrown = new AtomicBoolean();
        RecordPublisher throwingOnce = record -> {
            if (thrown.compareAndSet(false, true)) {
                // As a publisher built against a library missing at run time throws.
                throw new NoClassDefFoundError("simulated: org/example/MissingSerializer");
            }
            return CompletableFuture.completedFuture(null);
        };
        List<Throwable> cycleFailures = new CopyOnWriteArrayList<>();
        OutboxRelayListener listener = new OutboxRelayListener() {
            @Override
            public void cycleFailed(Throwable error) {
                cycleFailures.add(error);
            }
        };
        OutboxRelay relay = new OutboxRelay(
                store,
                throwingOnce,
                RelaySettings.builder().pollInterval(Duration.ofMillis(50)).build(),
                List.of(listener));
        this.relays.add(relay);

        relay.start();

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(cycleFailures).singleElement().isInstanceOf(NoClassDefFoundError.class);
        assertThat(relay.isRunning()).isTrue();
    }

    @Test
    void aListenerThatThrowsAnErrorDoesNotStopTheRelay() {
        OutboxStore store = OutboxTestTables.newStore(this.database);
        OutboxRelayListener throwing = new OutboxRelayListener() {
            @Override
            public void published(OutboxRecord record, Instant acknowledgedAt) {
                throw new AssertionError("listener bug");
            }
        };
        OutboxRelay relay = new OutboxRelay(
                store,
                record -> CompletableFuture.completedFuture(null),
                RelaySettings.builder().pollInterval(Duration.ofMillis(50)).build(),
                List.of(throwing));
        this.relays.add(relay);
        relay.start();

        OutboxTestTables.insertEvents(store, "listened", 5, 5);
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        OutboxTestTables.insertEvents(store, "listened", 5, 5);

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(relay.isRunning()).isTrue();
    }

    /** {@code perKey} events for each of {@code keys} keys, the n-th of a key with payload {"seq":n}. */
    private static void insertSequences(OutboxStore store, String topic, int keys, int perKey) {
        TestDatabase database = TestDatabase.of(store.dialect());
        JdbcClient.create(store.dataSource())
                .sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                        SELECT %s, ?, CONCAT('k-', (g.n - 1) %% ?), 'TestEvent', %s, '{}'
                        FROM %s
                        ORDER BY g.n
                        """.formatted(
                                database.randomUuid(),
                                database.utf8("CONCAT('{\"seq\":', FLOOR((g.n - 1) / ?), '}')"),
                                database.series(keys * perKey)))
                .params(topic, keys, keys)
                .update();
    }

    private KafkaRecordPublisher kafka(RelaySettings settings) {
        KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
        this.closeables.add(publisher);
        return publisher;
    }

    @Test
    void aRelayThreadSomeoneInterruptsGoesOnPublishingWithoutTakingEveryRecordForOneStillInFlight() {
        OutboxStore store = OutboxTestTables.newStore(this.database);
        String topic = EmbeddedInfrastructure.newTopic("interrupted", 2);
        RelaySettings settings = RelaySettings.builder()
                .pollInterval(Duration.ofMillis(100))
                .concurrency(1)
                .build();
        List<OutboxRecord> failedSends = new CopyOnWriteArrayList<>();
        OutboxRelayListener listener = new OutboxRelayListener() {
            @Override
            public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
                failedSends.add(record);
            }
        };
        OutboxRelay relay = new OutboxRelay(store, kafka(settings), settings, List.of(listener));
        this.relays.add(relay);
        relay.start();
        Thread relayThread = await().atMost(TIMEOUT)
                .until(
                        () -> Thread.getAllStackTraces().keySet().stream()
                                .filter(thread -> thread.getName().equals(relay.name()))
                                .findFirst()
                                .orElse(null),
                        java.util.Objects::nonNull);
        await().atMost(TIMEOUT).until(() -> relayThread.getState() == Thread.State.TIMED_WAITING);

        relayThread.interrupt();

        await().atMost(TIMEOUT)
                .until(() -> !relayThread.isInterrupted() && relayThread.getState() == Thread.State.TIMED_WAITING);
        insertSequences(store, topic, 5, 4);
        relay.wakeUp();
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(failedSends)
                .as("no record was taken for one still in flight")
                .isEmpty();
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(20, TIMEOUT));
            assertThat(sequences.keysNotCompleteAndInOrder(4)).isEmpty();
            assertThat(sequences.duplicates()).isZero();
        }
    }

    @Test
    void aCycleThatOutlivedAStopSendsNothingMoreWhenTheRelayStartsAgain(CapturedOutput output)
            throws InterruptedException {
        OutboxStore store = OutboxTestTables.newStore(this.database);
        store.insert(OutboxTestTables.event("orders", "a", "{\"seq\":0}"));
        store.insert(OutboxTestTables.event("orders", "b", "{\"seq\":0}"));
        CountDownLatch sending = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> leftover = new AtomicReference<>();
        List<String> sentByLeftover = new CopyOnWriteArrayList<>();
        // The first send blocks past the stop's wait, as a producer waiting for metadata can.
        RecordPublisher blockingOnce = record -> {
            if (leftover.compareAndSet(null, Thread.currentThread())) {
                sending.countDown();
                awaitUninterruptibly(release);
            } else if (Thread.currentThread() == leftover.get()) {
                sentByLeftover.add(record.key());
            }
            return CompletableFuture.completedFuture(null);
        };
        RelaySettings settings = RelaySettings.builder()
                .concurrency(1)
                .pollInterval(Duration.ofMillis(100))
                .shutdownTimeout(Duration.ofMillis(100))
                .build();
        OutboxRelay relay = new OutboxRelay(store, blockingOnce, settings);
        this.relays.add(relay);
        relay.start();
        assertThat(sending.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        relay.stop();
        assertThat(leftover.get().isAlive())
                .as("the stop gave up waiting for the cycle")
                .isTrue();
        assertThat(output.getOut())
                .as("the warning says what the thread it left was doing")
                .contains("stopped without its threads [" + leftover.get().getName() + " (sending 2 records)]");

        relay.start();
        release.countDown();

        await().atMost(TIMEOUT)
                .until(() -> store.count() == 0 && !leftover.get().isAlive());
        assertThat(sentByLeftover)
                .as("records the cycle left over from the stopped run sent after the new start")
                .isEmpty();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        while (true) {
            try {
                latch.await();
                return;
            } catch (InterruptedException ex) {
                // Keeps blocking, as a send that ignores interrupts does.
            }
        }
    }

    private HikariDataSource closing(HikariDataSource dataSource) {
        this.closeables.add(dataSource);
        return dataSource;
    }
}
