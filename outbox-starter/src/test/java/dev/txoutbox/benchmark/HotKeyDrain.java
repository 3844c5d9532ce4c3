package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * H, a phase of its own only: one relay draining a backlog whose rows all have one key. A key's records go out one
 * at a time, each after the broker acknowledged the one before, so this is what one key can carry.
 */
final class HotKeyDrain {

    /** Rows of the backlog, all of one key. */
    private static final int ROWS = 5_000;

    private final Report report;

    HotKeyDrain(Report report) {
        this.report = report;
    }

    void run() throws Exception {
        int count = ROWS;
        OutboxStore store = OutboxTestTables.newStore(Workload.DATABASE);
        String topic = EmbeddedInfrastructure.newTopic("bench-hot-key", Workload.PARTITIONS);
        Workload.fill(store, topic, count, "'hot'");
        KafkaRecordPublisher publisher = Workload.newPublisher(RelaySettings.defaults());
        LongAdder done = new LongAdder();
        OutboxRelay relay =
                new OutboxRelay(store, publisher, RelaySettings.defaults(), List.of(Workload.progress(done)));
        long start = System.nanoTime();
        relay.start();
        while (done.sum() < count) {
            Thread.sleep(5);
        }
        long elapsed = System.nanoTime() - start;
        relay.stop();
        publisher.close();
        Workload.discardDeadRows(store);
        this.report.row(
                String.format(Locale.ROOT, "H: relay draining %,d rows of one key (events/s)", count),
                Measures.perSecond(count, elapsed));
    }
}
