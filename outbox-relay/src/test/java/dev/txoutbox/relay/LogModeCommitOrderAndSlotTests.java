package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Log mode on what only it has: writers without key locks whose transactions the log orders by commit, and a
 * replication slot that the server may invalidate.
 */
class LogModeCommitOrderAndSlotTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        for (int i = this.closeables.size() - 1; i >= 0; i--) {
            this.closeables.get(i).close();
        }
    }

    /**
     * Transaction A writes key k first and gets the lower id; B writes k after it and commits first. Without a key
     * lock nothing makes B wait, so k's ids are in the other order than its commits; the relay publishes B's event
     * first, as the log gives the commits. With a batch of one id, the two come in two claims, the second of which
     * must take more than a batch.
     */
    @ParameterizedTest(name = "batch size {0}")
    @ValueSource(ints = {1, 500})
    void transactionsOfOneKeyGoOutInCommitOrderWhenTheirIdsAreInTheOtherOrder(int batchSize) throws Exception {
        OutboxStore store = LogMode.newStore();
        String topic = EmbeddedInfrastructure.newTopic("commit-order", 1);
        OutboxRelay relay =
                startRelay(store, RelaySettings.builder().batchSize(batchSize).build());
        TransactionTemplate transactions =
                new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));
        int rounds = 5;
        for (int round = 0; round < rounds; round++) {
            String key = "k" + round;
            CountDownLatch aWrote = new CountDownLatch(1);
            CountDownLatch bCommitted = new CountDownLatch(1);
            CompletableFuture<Void> a = CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
                store.insert(event(topic, key, "\"A\""));
                aWrote.countDown();
                awaitLatch(bCommitted);
            }));
            assertThat(aWrote.await(30, TimeUnit.SECONDS)).isTrue();
            transactions.executeWithoutResult(status -> store.insert(event(topic, key, "\"B\"")));
            bCommitted.countDown();
            a.get(30, TimeUnit.SECONDS);
        }

        try (TopicReader reader = new TopicReader(topic)) {
            List<ConsumerRecord<String, byte[]>> records = reader.awaitRecords(2 * rounds, TIMEOUT);
            for (int round = 0; round < rounds; round++) {
                String key = "k" + round;
                assertThat(records.stream()
                                .filter(record -> record.key().equals(key))
                                .map(record -> new String(record.value(), StandardCharsets.UTF_8)))
                        .as("key %s in the order its transactions committed", key)
                        .containsExactly("\"B\"", "\"A\"");
            }
        }
        List<String> byId = JdbcClient.create(store.dataSource())
                .sql("SELECT convert_from(payload, 'UTF8') FROM outbox_event ORDER BY id")
                .query(String.class)
                .list();
        assertThat(byId).as("every row published and deleted").isEmpty();
        assertThat(relay.logRole()).isEqualTo(OutboxRelay.LogRole.READING);
    }

    /**
     * The server invalidates the slot while no relay reads it (it held more WAL than max_slot_wal_keep_size): the
     * rows written meanwhile are only in the table. A relay that starts then makes the slot anew, publishes those rows
     * by polling the table, and reads the new slot for what comes after.
     */
    @Test
    void anInvalidatedSlotIsMadeAnewAndNothingWrittenMeanwhileIsLost() throws Exception {
        OutboxStore store = LogMode.newStore();
        String topic = EmbeddedInfrastructure.newTopic("invalidated", 2);
        ReplicationSlotLog log = LogMode.log(store);
        log.prepare();
        int keys = 5;
        int before = 6;
        for (int seq = 0; seq < before; seq++) {
            for (int key = 0; key < keys; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        try {
            EmbeddedInfrastructure.setMaxSlotWalKeepSize("1MB");
            jdbc.sql("CREATE TABLE filler (text text)").update();
            await("the server invalidates slot " + log.slot())
                    .atMost(TIMEOUT)
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        jdbc.sql("INSERT INTO filler SELECT repeat('x', 2000) FROM generate_series(1, 2000)")
                                .update();
                        jdbc.sql("SELECT pg_switch_wal()").query().listOfRows();
                        jdbc.sql("CHECKPOINT").update();
                        ReplicationSlotLog.SlotStatus status = log.status();
                        return status != null && status.lost();
                    });
        } finally {
            EmbeddedInfrastructure.setMaxSlotWalKeepSize(EmbeddedInfrastructure.DEFAULT_MAX_SLOT_WAL_KEEP_SIZE);
        }

        Logger relayLog = (Logger) LoggerFactory.getLogger(OutboxRelay.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        relayLog.addAppender(lines);
        this.closeables.add(() -> relayLog.detachAppender(lines));
        OutboxRelay relay = startRelay(store, RelaySettings.defaults());
        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(lines.list)
                .filteredOn(line -> line.getLevel() == Level.ERROR)
                .extracting(ILoggingEvent::getFormattedMessage)
                .as("the relay says the slot is lost")
                .anySatisfy(line -> assertThat(line).contains(log.slot()).contains("is lost"));
        ReplicationSlotLog.SlotStatus renewed = log.status();
        assertThat(renewed).isNotNull();
        assertThat(renewed.lost()).as("the slot made anew").isFalse();
        int after = 4;
        for (int seq = before; seq < before + after; seq++) {
            for (int key = 0; key < keys; key++) {
                store.insert(event(topic, "key-" + key, "{\"seq\":" + seq + "}"));
            }
        }

        await().atMost(TIMEOUT).until(() -> store.count() == 0);
        assertThat(relay.logRole()).isEqualTo(OutboxRelay.LogRole.READING);
        try (TopicReader reader = new TopicReader(topic)) {
            KeySequences sequences = new KeySequences(reader.awaitRecords(keys * (before + after), TIMEOUT));
            assertThat(sequences.firstDeliveries()).hasSize(keys);
            assertThat(sequences.keysNotCompleteAndInOrder(before + after)).isEmpty();
        }
    }

    private OutboxRelay startRelay(OutboxStore store, RelaySettings settings) {
        KafkaRecordPublisher kafka = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
        this.closeables.add(kafka);
        OutboxRelay relay = LogMode.relay(store, kafka, settings);
        relay.start();
        this.closeables.add(relay::stop);
        await().atMost(TIMEOUT).until(() -> relay.logRole() == OutboxRelay.LogRole.READING);
        return relay;
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(ex);
        }
    }
}
