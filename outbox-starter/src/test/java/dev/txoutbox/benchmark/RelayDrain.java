package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.OutboxTestTables;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * R and S: one or more relays on one table draining a backlog, with the rate at the start and at the end of the
 * drain, and the per-key order of what they published, checked on the consumed records.
 */
final class RelayDrain {

    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    private final Report report;

    private final int rows;

    RelayDrain(Report report, int rows) {
        this.report = report;
        this.rows = rows;
    }

    Drain run(int relays) throws Exception {
        OutboxStore store = OutboxTestTables.newStore(Workload.DATABASE);
        String topic = EmbeddedInfrastructure.newTopic("bench-relay-" + relays, Workload.PARTITIONS);
        Workload.fill(store, topic, this.rows);
        RelaySettings settings = RelaySettings.defaults();
        List<OutboxRelay> running = new ArrayList<>();
        List<KafkaRecordPublisher> publishers = new ArrayList<>();
        // The drain's progress comes from the relays' own reports of their committed cycles. Counting the rows
        // instead would compete with the relays for the same cores: a count of a 1,000,000-row table is a parallel
        // scan of a gigabyte.
        LongAdder done = new LongAdder();
        // Claimed rows, and those of them left alone because an earlier row of their key was in another batch.
        LongAdder locked = new LongAdder();
        LongAdder heldBack = new LongAdder();
        OutboxRelayListener claims = new OutboxRelayListener() {
            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                locked.add(result.locked());
                heldBack.add(result.heldBack());
            }
        };
        MachineCpu before = MachineCpu.read();
        long start = System.nanoTime();
        for (int i = 0; i < relays; i++) {
            KafkaRecordPublisher publisher = Workload.newPublisher(settings);
            publishers.add(publisher);
            OutboxRelay relay = new OutboxRelay(store, publisher, settings, List.of(Workload.progress(done), claims));
            running.add(relay);
            relay.start();
        }
        Sampled pace = awaitDrained(done, start);
        long tenth = pace.tenth();
        long firstTenthAt = pace.firstTenthAt();
        long lastTenthFrom = pace.lastTenthFrom();
        long elapsed = pace.elapsed();
        MachineCpu after = MachineCpu.read();
        running.forEach(OutboxRelay::stop);
        publishers.forEach(KafkaRecordPublisher::close);
        if (store.count() != 0) {
            throw new IllegalStateException("The relays reported the backlog done, but " + store.count()
                    + " rows are left in the outbox table");
        }
        Workload.discardDeadRows(store);
        double eps = Measures.perSecond(this.rows, elapsed);
        double startRate = Measures.perSecond(tenth, firstTenthAt);
        double endRate = Measures.perSecond(tenth, Math.max(1, elapsed - lastTenthFrom));
        int violations = orderViolations(topic);
        String name = relays == 1 ? "R / S1: relay draining the backlog" : "S" + relays + ": " + relays + " relays";
        this.report.row(name + " (events/s)", eps);
        if (relays == 1) {
            this.report.row("R: rate over the first tenth of the drain (events/s)", startRate);
            this.report.row("R: rate over the last tenth of the drain (events/s)", endRate);
        }
        this.report.row("S" + relays + ": per-key order violations", violations);
        this.report.row(
                "S" + relays + ": claimed rows held back for key order (%)", 100.0 * heldBack.sum() / locked.sum());
        String phase = relays == 1 ? "R" : "S" + relays;
        double cpuMicros = this.report.cpuRow(phase, "event", after.secondsSince(before), this.rows);
        this.report.cpuRow(phase + ": cores busy, whole machine", after.coresBusySince(before));
        return new Drain(eps, startRate, endRate, violations, cpuMicros);
    }

    /**
     * R in log mode: one relay reading the write-ahead log drains a backlog that writers committed in transactions of
     * 100 rows while it was stopped, so that it reads them from its slot as the commits came, without key locks.
     */
    Drain runLog() throws Exception {
        OutboxStore store = LogMode.withoutKeyLocks(OutboxTestTables.newStore(Workload.DATABASE));
        String topic = EmbeddedInfrastructure.newTopic("bench-relay-log", Workload.PARTITIONS);
        // The publication and the slot first: the log holds what is committed after them.
        LogMode.log(store).prepare();
        Workload.fillInTransactions(store, topic, this.rows, 100);
        Workload.requireNoLostSlot();
        RelaySettings settings = RelaySettings.defaults();
        LongAdder done = new LongAdder();
        KafkaRecordPublisher publisher = Workload.newPublisher(settings);
        MachineCpu before = MachineCpu.read();
        long start = System.nanoTime();
        OutboxRelay relay = LogMode.relay(store, publisher, settings, List.of(Workload.progress(done)));
        relay.start();
        Sampled pace = awaitDrained(done, start);
        long tenth = pace.tenth();
        long firstTenthAt = pace.firstTenthAt();
        long lastTenthFrom = pace.lastTenthFrom();
        long elapsed = pace.elapsed();
        MachineCpu after = MachineCpu.read();
        relay.stop();
        publisher.close();
        if (store.count() != 0) {
            throw new IllegalStateException(
                    "The relay reported the backlog done, but " + store.count() + " rows are left in the outbox table");
        }
        Workload.discardDeadRows(store);
        Workload.dropIdleSlots();
        double eps = Measures.perSecond(this.rows, elapsed);
        double startRate = Measures.perSecond(tenth, firstTenthAt);
        double endRate = Measures.perSecond(tenth, Math.max(1, elapsed - lastTenthFrom));
        int violations = orderViolations(topic);
        this.report.row("R: relay reading the log, draining the backlog (events/s)", eps);
        this.report.row("R: rate over the first tenth of the drain (events/s)", startRate);
        this.report.row("R: rate over the last tenth of the drain (events/s)", endRate);
        this.report.row("R: per-key order violations", violations);
        double cpuMicros = this.report.cpuRow("R", "event", after.secondsSince(before), this.rows);
        this.report.cpuRow("R: cores busy, whole machine", after.coresBusySince(before));
        return new Drain(eps, startRate, endRate, violations, cpuMicros);
    }

    /** Waits until the relays took care of every row, sampling when the first and the last tenth went out. */
    private Sampled awaitDrained(LongAdder done, long start) throws InterruptedException {
        long tenth = this.rows / 10;
        long firstTenthAt = 0;
        long lastTenthFrom = 0;
        long waiting;
        do {
            Thread.sleep(5);
            waiting = this.rows - done.sum();
            long now = System.nanoTime() - start;
            if (firstTenthAt == 0 && waiting <= this.rows - tenth) {
                firstTenthAt = now;
            }
            if (lastTenthFrom == 0 && waiting <= tenth) {
                lastTenthFrom = now;
            }
        } while (waiting > 0);
        return new Sampled(tenth, firstTenthAt, lastTenthFrom, System.nanoTime() - start);
    }

    /** When a drain's first tenth went out and its last began, and how long it took, in nanoseconds from its start. */
    private record Sampled(long tenth, long firstTenthAt, long lastTenthFrom, long elapsed) {}

    /** Consumes a topic from the beginning and counts records that reached Kafka before an earlier one of their key. */
    private int orderViolations(String topic) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                EmbeddedInfrastructure.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "bench-" + UUID.randomUUID(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                "5000");
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long total = consumer.endOffsets(partitions).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
            BitSet seen = new BitSet(this.rows);
            Map<String, Integer> highest = new HashMap<>();
            int violations = 0;
            long read = 0;
            while (read < total) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    read++;
                    Matcher seq = SEQ.matcher(new String(record.value(), 0, 40, StandardCharsets.UTF_8));
                    if (!seq.find()) {
                        violations++;
                        continue;
                    }
                    int n = Integer.parseInt(seq.group(1));
                    Integer before = highest.get(record.key());
                    if (before != null && n < before && !seen.get(n)) {
                        violations++;
                    }
                    seen.set(n);
                    highest.merge(record.key(), n, Math::max);
                }
            }
            if (seen.cardinality() != this.rows) {
                violations += this.rows - seen.cardinality();
            }
            return violations;
        }
    }

    /**
     * What a drain measured: its rate over the whole backlog, over its first and its last tenth, the per-key order
     * violations, and the whole machine's CPU time per event, in microseconds.
     */
    record Drain(double eventsPerSecond, double startRate, double endRate, int orderViolations, double cpuMicros) {}
}
