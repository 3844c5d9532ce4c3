package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.KeySequences;
import dev.txoutbox.testing.OutboxHeaders;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.RelayProcess;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A relay in a process of its own, killed with SIGKILL in the middle of a batch while another relay works on the
 * same table: nothing the killed process claimed is lost, the other relay publishes it again under the same event
 * ids, and every key's first deliveries stay complete and in order. On each database.
 */
abstract class KilledRelayProcessTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** The exit status of a process killed by SIGKILL (128 + 9), as {@link Process#exitValue()} reports it. */
    private static final int KILLED_BY_SIGKILL = 137;

    private static final int KEYS = 200;

    private static final int EVENTS_PER_KEY = 100;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final TestDatabase database;

    KilledRelayProcessTests(TestDatabase database) {
        this.database = database;
    }

    @AfterEach
    void stopEverything() throws Exception {
        // In reverse: the relay process and the relay stop before the data sources they use.
        for (int i = this.closeables.size() - 1; i >= 0; i--) {
            this.closeables.get(i).close();
        }
    }

    @Test
    void aRelayProcessKilledMidBatchLosesNothingAndTheRelayThatTakesOverKeepsEveryKeyInOrder() throws Exception {
        String url = this.database.newDatabaseUrl();
        OutboxStore store = OutboxTestTables.migratedStore(closing(EmbeddedInfrastructure.dataSource(url, "writer")));
        String topic = EmbeddedInfrastructure.newTopic("killed", 4);
        int rows = KEYS * EVENTS_PER_KEY;
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        // One statement, in id order: key-0 seq 0, key-1 seq 0, ..., key-0 seq 1, ...
        jdbc.sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                        SELECT %s, ?, CONCAT('key-', (g.n - 1) %% ?), 'TestEvent', %s, '{}'
                        FROM %s
                        ORDER BY g.n
                        """.formatted(
                                this.database.randomUuid(),
                                this.database.utf8("CONCAT('{\"seq\":', FLOOR((g.n - 1) / ?), '}')"),
                                this.database.series(rows)))
                .params(topic, KEYS, KEYS)
                .update();
        Set<String> written = new HashSet<>(jdbc.sql("SELECT event_id FROM outbox_event")
                .query(String.class)
                .list());
        assertThat(written).hasSize(rows);
        String bootstrap = EmbeddedInfrastructure.kafkaBootstrapServers();

        RelayProcess process = RelayProcess.start(
                "killed-mid-batch-" + this.database.name().toLowerCase(java.util.Locale.ROOT), url, bootstrap, TIMEOUT);
        this.closeables.add(process);
        try (TopicReader reader = new TopicReader(topic)) {
            await("the relay process publishes; its output is in " + process.outputFile())
                    .atMost(TIMEOUT)
                    .until(() -> reader.endOffsetTotal() > 0);

            // The relay that takes over runs beside the process from then on, as a second instance would.
            PublishingCycles takingOver = new PublishingCycles();
            OutboxStore relayStore = new OutboxStore(
                    closing(EmbeddedInfrastructure.dataSource(url, "relay-taking-over")),
                    store.dialect(),
                    store.table());
            RelaySettings settings =
                    RelaySettings.builder().pollInterval(Duration.ofMillis(50)).build();
            KafkaRecordPublisher kafka =
                    KafkaRecordPublisher.create(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), settings);
            this.closeables.add(kafka);
            RecordPublisher counting = new RecordPublisher() {
                @Override
                public CompletableFuture<?> publish(OutboxRecord record) {
                    takingOver.sent.incrementAndGet();
                    return kafka.publish(record);
                }

                @Override
                public FailureKind classify(OutboxRecord record, Throwable error) {
                    return kafka.classify(record, error);
                }
            };
            OutboxRelay relay = new OutboxRelay(relayStore, counting, settings, List.of(takingOver));
            relay.start();
            this.closeables.add(relay::stop);
            await().atMost(TIMEOUT).until(() -> takingOver.completed.get() > 0);

            // Mid-batch: the process has records on the topic whose rows it has not deleted yet. It is frozen while
            // that is checked, so that it cannot finish its batch between the check and the kill.
            await("records of the relay process on the topic while their rows are still there")
                    .atMost(TIMEOUT)
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> {
                        process.pause();
                        if (processHasSentRowsItHasNotDeleted(reader, takingOver, store, rows)) {
                            return true;
                        }
                        process.resume();
                        return false;
                    });
            int exitValue = process.kill();
            long leftAtKill = store.count();
            long onTopicAtKill = reader.endOffsetTotal();

            assertThat(exitValue).as("the relay process died of SIGKILL").isEqualTo(KILLED_BY_SIGKILL);
            assertThat(leftAtKill).as("rows left when the process was killed").isPositive();
            assertThat(onTopicAtKill).as("records published before the kill").isPositive();
            await().atMost(TIMEOUT).until(() -> store.count() == 0);
            assertThat(new DeadLetters(store.dataSource(), store.dialect(), store.table()).count())
                    .isZero();

            List<ConsumerRecord<String, byte[]>> records = reader.awaitRecords((int) reader.endOffsetTotal(), TIMEOUT);
            KeySequences sequences = new KeySequences(records);
            assertThat(sequences.firstDeliveries()).hasSize(KEYS);
            assertThat(sequences.keysNotCompleteAndInOrder(EVENTS_PER_KEY)).isEmpty();
            assertThat(records)
                    .extracting(KilledRelayProcessTests::eventId)
                    .as("every record is one of an event that was written")
                    .allMatch(written::contains);
            assertThat(records.stream().map(KilledRelayProcessTests::eventId).distinct())
                    .hasSize(rows);
            assertThat(sequences.duplicates())
                    .as(
                            "records the killed process had sent and not yet deleted, sent again (%d of the copies"
                                    + " after a later event of their key; %d of %d rows were left at the kill)",
                            duplicatesAfterALaterEvent(records), leftAtKill, rows)
                    .isPositive();
            assertThat(copiesThatDifferFromTheirFirstDelivery(records)).isEmpty();
            // The relay that takes over sends again, in order, what the killed process had sent: a copy of an event
            // may land after a later event of its key, but then that later event follows again, so that a key's
            // latest record is its latest event, which is what a compacted topic keeps.
            assertThat(keysWhoseLastCopiesAreOutOfOrder(records)).isEmpty();
        }
    }

    /**
     * Whether records the relay process sent are on the topic while their rows are still there, so that its cycle is
     * between its sends and its delete. The process's records on the topic are at least all records there less those
     * the other relay has sent; its deleted rows at most all deleted rows less those the other relay has reported
     * published (which it does after its delete committed). Read in this order, each bound holds at the next read.
     */
    private static boolean processHasSentRowsItHasNotDeleted(
            TopicReader reader, PublishingCycles other, OutboxStore store, int rows) {
        long onTopic = reader.endOffsetTotal();
        long sentByOther = other.sent.get();
        long deletedByOther = other.published.get();
        long deleted = rows - store.count();
        return onTopic - sentByOther > deleted - deletedByOther;
    }

    /** The records whose key or payload differs from those of the first record with their event id. */
    private static List<String> copiesThatDifferFromTheirFirstDelivery(List<ConsumerRecord<String, byte[]>> records) {
        Map<String, ConsumerRecord<String, byte[]>> first = new HashMap<>();
        List<String> differing = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            ConsumerRecord<String, byte[]> original = first.putIfAbsent(eventId(record), record);
            if (original != null
                    && (!original.key().equals(record.key())
                            || !java.util.Arrays.equals(original.value(), record.value()))) {
                differing.add(record.toString());
            }
        }
        return differing;
    }

    /**
     * How many copies of an event arrived after the first delivery of a later event of their key (a key's records
     * are in one partition, which a reader reads in offset order).
     */
    private static int duplicatesAfterALaterEvent(List<ConsumerRecord<String, byte[]>> records) {
        Set<String> seen = new HashSet<>();
        Map<String, Integer> highestSeq = new HashMap<>();
        int late = 0;
        for (ConsumerRecord<String, byte[]> record : records) {
            int seq = seq(record);
            if (!seen.add(eventId(record)) && highestSeq.getOrDefault(record.key(), -1) > seq) {
                late++;
            }
            highestSeq.merge(record.key(), seq, Math::max);
        }
        return late;
    }

    /** The keys whose events, each counted at its last copy, are not in order. */
    private static List<String> keysWhoseLastCopiesAreOutOfOrder(List<ConsumerRecord<String, byte[]>> records) {
        Map<String, Integer> lastCopy = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            lastCopy.put(eventId(records.get(i)), i);
        }
        Map<String, List<Integer>> lastCopiesByKey = new HashMap<>();
        for (int i = 0; i < records.size(); i++) {
            ConsumerRecord<String, byte[]> record = records.get(i);
            if (lastCopy.get(eventId(record)) == i) {
                lastCopiesByKey
                        .computeIfAbsent(record.key(), key -> new ArrayList<>())
                        .add(seq(record));
            }
        }
        List<String> outOfOrder = new ArrayList<>();
        lastCopiesByKey.forEach((key, seqs) -> {
            if (!seqs.equals(seqs.stream().sorted().toList())) {
                outOfOrder.add(key + "=" + seqs);
            }
        });
        return outOfOrder;
    }

    private static int seq(ConsumerRecord<String, byte[]> record) {
        String json = new String(record.value(), StandardCharsets.UTF_8);
        return Integer.parseInt(json.replaceAll("\\D", ""));
    }

    private static String eventId(ConsumerRecord<String, byte[]> record) {
        return new String(record.headers().lastHeader(OutboxHeaders.EVENT_ID).value(), StandardCharsets.UTF_8);
    }

    private HikariDataSource closing(HikariDataSource dataSource) {
        this.closeables.add(dataSource);
        return dataSource;
    }

    /** Counts the records a relay sent and published, and its cycles that published something. */
    private static final class PublishingCycles implements OutboxRelayListener {

        final AtomicInteger sent = new AtomicInteger();

        final AtomicInteger completed = new AtomicInteger();

        final AtomicInteger published = new AtomicInteger();

        @Override
        public void published(OutboxRecord record, Instant acknowledgedAt) {
            this.published.incrementAndGet();
        }

        @Override
        public void cycleCompleted(OutboxRelay.CycleResult result) {
            if (result.published() > 0) {
                this.completed.incrementAndGet();
            }
        }
    }
}
