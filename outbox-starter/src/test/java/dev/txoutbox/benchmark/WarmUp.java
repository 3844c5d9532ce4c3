package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * Drains backlogs, unmeasured, before any phase, so that the JIT compiler has compiled the relay's, the producer's
 * and the broker's code and the ceilings and the relay run compiled code alike: after a single backlog, the compiler
 * still took a large share of the cores in R's first seconds. It never quite settles in this JVM, which hosts the
 * broker too, and more backlogs than {@value #MAX_ROUNDS} did not change R.
 */
final class WarmUp {

    /** Rows of each backlog the relay drains before R is measured. */
    static final int ROWS = 50_000;

    /** The warm-up ends once JIT compilation takes at most this share of a backlog's time... */
    private static final double MAX_JIT_SHARE = 0.05;

    /** ...or after this many backlogs. */
    private static final int MAX_ROUNDS = 10;

    private WarmUp() {}

    static void run() throws Exception {
        OutboxStore store = OutboxTestTables.newStore(Workload.DATABASE);
        String topic = EmbeddedInfrastructure.newTopic("bench-warm-up", Workload.PARTITIONS);
        KafkaRecordPublisher publisher = Workload.newPublisher(RelaySettings.defaults());
        LongAdder done = new LongAdder();
        OutboxRelay relay =
                new OutboxRelay(store, publisher, RelaySettings.defaults(), List.of(Workload.progress(done)));
        relay.start();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        int rounds = 0;
        double jitShare;
        do {
            long jitBefore = jit.getTotalCompilationTime();
            long start = System.nanoTime();
            Workload.fill(store, topic, ROWS);
            rounds++;
            while (done.sum() < (long) rounds * ROWS) {
                Thread.sleep(5);
            }
            jitShare = (jit.getTotalCompilationTime() - jitBefore) / ((System.nanoTime() - start) / 1e6);
        } while (jitShare > MAX_JIT_SHARE && rounds < MAX_ROUNDS);
        relay.stop();
        publisher.close();
        Workload.discardDeadRows(store);
        System.out.printf(
                Locale.ROOT,
                "Warm-up: %d backlogs of %,d rows; JIT compilation during the last: %.0f %% of its time%n",
                rounds,
                ROWS,
                100 * jitShare);
    }
}
