package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.util.ArrayList;
import java.util.List;

/**
 * O, a phase of its own only: what a cycle costs that publishes one event, as cycles do at low rates. One relay runs
 * its cycles one after the other in the calling thread ({@link OutboxRelay#relayOnce()}), each after one row was
 * written, and again with the table empty: the time of a whole cycle, from its connection to its commit, the send and
 * the broker's acknowledgement included, and of a cycle that finds nothing.
 */
final class OneEventCycles {

    /** Cycles timed in each variant, after as many to warm up. */
    static final int CYCLES = 3_000;

    private final Report report;

    OneEventCycles(Report report) {
        this.report = report;
    }

    void run() throws Exception {
        OutboxStore store = OutboxTestTables.newStore(Workload.DATABASE);
        String topic = EmbeddedInfrastructure.newTopic("bench-one-event", Workload.PARTITIONS);
        try (KafkaRecordPublisher publisher = Workload.newPublisher(RelaySettings.defaults())) {
            OutboxRelay relay = new OutboxRelay(store, publisher, RelaySettings.defaults(), List.of());
            time(store, topic, relay, true);
            double[] oneEvent = time(store, topic, relay, true);
            time(store, topic, relay, false);
            double[] empty = time(store, topic, relay, false);
            this.report.row("O: cycle publishing one event, p50 (ms)", oneEvent[0]);
            this.report.row("O: cycle publishing one event, p99 (ms)", oneEvent[1]);
            this.report.row("O: cycle finding nothing, p50 (ms)", empty[0]);
            this.report.row("O: cycle finding nothing, p99 (ms)", empty[1]);
        }
    }

    /** The p50 and p99 of {@value #CYCLES} cycles, each after one row was written when {@code write}. */
    private static double[] time(OutboxStore store, String topic, OutboxRelay relay, boolean write) {
        List<Long> micros = new ArrayList<>(CYCLES);
        for (int i = 0; i < CYCLES; i++) {
            if (write) {
                Workload.write(store, topic, i);
            }
            long start = System.nanoTime();
            OutboxRelay.CycleResult result = relay.relayOnce();
            micros.add((System.nanoTime() - start) / 1_000);
            if (result.published() != (write ? 1 : 0)) {
                throw new IllegalStateException("Cycle " + i + " published " + result.published() + " events");
            }
        }
        return Measures.percentiles(micros);
    }
}
