package dev.txoutbox.relay;

import static dev.txoutbox.relay.LogModeFixture.TIMEOUT;
import static dev.txoutbox.relay.LogModeFixture.awaitRole;
import static dev.txoutbox.relay.LogModeFixture.walSender;
import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.ForwardingRecordPublisher;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.RelayProcess;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The relay in log mode under faults that only a reader of the log meets, or meets differently (the suites that run
 * in both modes: {@link PostgresLogModeRelayFaultTests}, {@link PostgresLogModeBrokerOutageTests}): the reading
 * process killed with a standby in another process, a reader that stops, rows the log never carried, a poison record.
 * In each, nothing is lost, every key's events reach Kafka complete and in order (counting first deliveries, as a
 * de-duplicating consumer does), and a duplicate is only ever a second delivery of one event id.
 */
class PostgresLogModeFaultTests {

    private final LogModeFixture fixture = new LogModeFixture();

    @AfterEach
    void stopEverything() throws Exception {
        this.fixture.close();
    }

    @Test
    void whenTheReadingProcessIsKilledMidTransactionAStandbyTakesOverFromTheSlotsConfirmedPosition() throws Exception {
        String url = TestDatabase.POSTGRESQL.newDatabaseUrl();
        OutboxStore store = this.fixture.track(LogMode.withoutKeyLocks(
                OutboxTestTables.migratedStore(this.fixture.closing(EmbeddedInfrastructure.dataSource(url, "test")))));
        String topic = EmbeddedInfrastructure.newTopic("log-killed", 3);
        RelayProcess process = this.fixture.closing(
                RelayProcess.start("log-killed", url, EmbeddedInfrastructure.kafkaBootstrapServers(), TIMEOUT, true));
        process.awaitUntil("its walsender to stream the table's slot", TIMEOUT, () -> walSender(store) != null);
        RelaySettings settings =
                RelaySettings.builder().pollInterval(Duration.ofMillis(200)).build();
        OutboxRelay standby = this.fixture.start(store, this.fixture.kafka(settings), settings, List.of());
        awaitRole(standby, OutboxRelay.LogRole.STANDBY);

        int keys = 20;
        int eventsPerKey = 40;
        TransactionTemplate transactions =
                new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));
        for (int seq = 0; seq < eventsPerKey; seq++) {
            int n = seq;
            transactions.executeWithoutResult(status -> {
                for (int key = 0; key < keys; key++) {
                    store.insert(event(topic, "key-" + key, "{\"seq\":" + n + "}"));
                }
            });
        }
        // The process acknowledges each batch late: kill it while it has published some rows and not the rest.
        try (TopicReader reader = new TopicReader(topic)) {
            reader.awaitRecords(keys * 3, TIMEOUT);
        }
        assertThat(store.count()).as("rows the killed reader left").isPositive();
        process.kill();

        awaitRole(standby, OutboxRelay.LogRole.READING);
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(keys);
            assertThat(sequences.keysNotCompleteAndInOrder(eventsPerKey)).isEmpty();
        }
    }

    @Test
    void aPoisonRecordBecomesADeadLetterParksItsKeyAndAfterItIsRequeuedTheKeyGoesOutInOrder() {
        OutboxStore store = this.fixture.store();
        String topic = EmbeddedInfrastructure.newTopic("log-poison", 2);
        // Until the broker's limit is raised, the first event of key "poison" is over its maximum message size.
        AtomicBoolean tooLarge = new AtomicBoolean(true);
        startReadingWithAPoisonRecord(store, tooLarge, record -> "poison".equals(record.key()));
        for (int seq = 0; seq < 5; seq++) {
            for (String key : List.of("poison", "key-0", "key-1", "key-2")) {
                store.insert(event(topic, key, "{\"seq\":" + seq + "}"));
            }
        }
        DeadLetters deadLetters = deadLetters(store);
        await().atMost(TIMEOUT).until(() -> deadLetters.count() == 1);
        await().atMost(TIMEOUT).until(() -> store.count() == 4);
        assertThat(deadLetters.list(10)).extracting(DeadLetter::key).containsExactly("poison");
        assertThat(JdbcClient.create(store.dataSource())
                        .sql("SELECT record_key FROM outbox_event")
                        .query(String.class)
                        .list())
                .as("the parked key's later rows wait in the table")
                .containsOnly("poison");
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences others = new KeySequences(reader.awaitRecords(15, TIMEOUT));
            assertThat(others.firstDeliveries()).doesNotContainKey("poison");
            assertThat(others.keysNotCompleteAndInOrder(5)).isEmpty();
        }

        tooLarge.set(false);
        assertThat(deadLetters.requeue(topic, "poison")).isEqualTo(1);

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(20, TIMEOUT));
            assertThat(sequences.firstDeliveries().get("poison")).containsExactly(0, 1, 2, 3, 4);
        }
        assertThat(deadLetters.count()).isZero();
    }

    @Test
    void aDeadLetterRequeuedRightAfterLaterRowsOfItsKeyCommittedGoesOutBeforeThem() throws InterruptedException {
        // The requeued row keeps its id but commits again, after the rows of its key that waited behind it: the log
        // brings it last, in the same claim as them while they wait there for the key to be free.
        OutboxStore store = this.fixture.store();
        String topic = EmbeddedInfrastructure.newTopic("log-requeue", 1);
        AtomicBoolean tooLarge = new AtomicBoolean(true);
        startReadingWithAPoisonRecord(store, tooLarge, record -> true);
        DeadLetters deadLetters = deadLetters(store);
        for (int round = 0; round < 4; round++) {
            String key = "key-" + round;
            tooLarge.set(true);
            store.insert(event(topic, key, "{\"seq\":0}"));
            await().atMost(TIMEOUT).until(() -> deadLetters.count() == 1);
            if (round % 2 == 0) {
                // Until then, the reader keeps the dead letter's id from its first commit, and takes the requeued row
                // with it, before the later rows; in the other rounds, both of its ids may come in one claim.
                Thread.sleep(TimeUnit.NANOSECONDS.toMillis(LogTail.VISIBILITY_GRACE) + 500);
            }
            for (int seq = 1; seq < 5; seq++) {
                store.insert(event(topic, key, "{\"seq\":" + seq + "}"));
            }
            tooLarge.set(false);
            assertThat(deadLetters.requeue(topic, key)).isEqualTo(1);
            await().atMost(TIMEOUT).until(() -> store.count() == 0);
        }

        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(20, TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(4);
            assertThat(sequences.keysNotCompleteAndInOrder(5)).isEmpty();
            assertThat(sequences.duplicates()).isZero();
        }
    }

    @Test
    void aStandbyTakesOverWhenTheReaderStopsAndRowsWrittenBeforeTheSlotExistedArePublished() {
        OutboxStore store = this.fixture.store();
        String topic = EmbeddedInfrastructure.newTopic("takeover", 3);
        // Rows of a table that was polled before: the log never carried them.
        for (int seq = 0; seq < 10; seq++) {
            for (int key = 0; key < 10; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        RelaySettings settings =
                RelaySettings.builder().pollInterval(Duration.ofMillis(200)).build();
        OutboxRelay reader = this.fixture.start(store, this.fixture.kafka(settings), settings, List.of());
        awaitRole(reader, OutboxRelay.LogRole.READING);
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        OutboxRelay standby = this.fixture.start(store, this.fixture.kafka(settings), settings, List.of());
        awaitRole(standby, OutboxRelay.LogRole.STANDBY);

        for (int seq = 10; seq < 20; seq++) {
            for (int key = 0; key < 10; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        reader.stop();
        awaitRole(standby, OutboxRelay.LogRole.READING);
        for (int seq = 20; seq < 30; seq++) {
            for (int key = 0; key < 10; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        try (TopicReader topicReader = new TopicReader(topic)) {
            KeySequences sequences =
                    new KeySequences(topicReader.awaitRecords((int) topicReader.endOffsetTotal(), TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(10);
            assertThat(sequences.keysNotCompleteAndInOrder(30)).isEmpty();
        }
        assertThat(reader.logRole()).isEqualTo(OutboxRelay.LogRole.STOPPED);
    }

    /**
     * Starts a reader whose publisher fails, as a broker refuses a record over its size limit, the first event
     * ({@code "seq":0}) of the keys {@code poison} picks, while {@code tooLarge} holds.
     */
    private void startReadingWithAPoisonRecord(
            OutboxStore store, AtomicBoolean tooLarge, Predicate<OutboxRecord> poison) {
        RelaySettings settings = RelaySettings.builder()
                .pollInterval(Duration.ofMillis(100))
                .retry(Duration.ofMillis(10), 2.0, Duration.ofMillis(100))
                .build();
        RecordPublisher publisher = new ForwardingRecordPublisher(this.fixture.kafka(settings)) {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                if (tooLarge.get() && poison.test(record) && payload(record).contains("\"seq\":0")) {
                    return CompletableFuture.failedFuture(new RecordTooLargeException(
                            "The message is 2000000 bytes when serialized which is larger than 1048576"));
                }
                return super.publish(record);
            }
        };
        this.fixture.startReading(store, publisher, settings);
    }

    private static DeadLetters deadLetters(OutboxStore store) {
        return new DeadLetters(store.dataSource(), store.dialect(), store.table());
    }

    private static String payload(OutboxRecord record) {
        byte[] payload = record.payload();
        return payload == null ? "" : new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    }
}
