package dev.txoutbox.benchmark;

import dev.txoutbox.Outbox;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * L: write-to-acknowledgement latency with the default settings, at half of the rate W's writers reached with the
 * relay running, and at {@value #LOW_RATE} events per second, each event in a transaction of its own. P ({@link
 * ProducerLatency}) measures a plain producer at the same rates, for reference.
 */
final class WriteLatency {

    /** The low rate of L and P, in events per second. */
    static final double LOW_RATE = 500;

    private final Report report;

    private final boolean full;

    /** Properties of the application, such as the relay's mode. */
    private final String[] properties;

    WriteLatency(Report report, boolean full, String... properties) {
        this.report = report;
        this.full = full;
        this.properties = properties;
    }

    /** How long each writer's transaction took, from its start to the end of its commit, in microseconds. */
    private final ConcurrentLinkedQueue<Long> transactionMicros = new ConcurrentLinkedQueue<>();

    /** Measures at half of the writers' rate and at the low rate; returns both, in this order. */
    Latencies[] run(double halfOfWriters) throws Exception {
        try (ConfigurableApplicationContext context = BenchmarkApplication.start(this.properties)) {
            Outbox outbox = context.getBean(Outbox.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            String topic = context.getEnvironment().getRequiredProperty("benchmark.topic");
            AtomicInteger sent = new AtomicInteger();
            Runnable write = () -> {
                int i = sent.getAndIncrement();
                long start = System.nanoTime();
                transactions.executeWithoutResult(status -> {
                    UUID eventId = outbox.write(topic, Workload.key(i), new String(Workload.payload(i)));
                    if (BenchmarkApplication.recordLatencies) {
                        // Ahead of the starter's own, which wakes the relay up.
                        TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                            @Override
                            public int getOrder() {
                                return Ordered.HIGHEST_PRECEDENCE;
                            }

                            @Override
                            public void afterCommit() {
                                BenchmarkApplication.stamp(eventId, Instant.now(), true);
                            }
                        });
                    }
                });
                if (BenchmarkApplication.recordLatencies) {
                    this.transactionMicros.add((System.nanoTime() - start) / 1_000);
                }
            };
            // The writers' code path is not the one W ran: unwarmed, the writers fell far short of the rate at first.
            Pacing.run(write, halfOfWriters, Duration.ofSeconds(this.full ? 15 : 10));
            Workload.awaitDrained(store);
            Duration duration = Duration.ofSeconds(this.full ? 30 : 15);
            Latencies half = measure(write, sent, store, halfOfWriters, duration, "L");
            this.report.row("L: target rate, half of W's writers with the relay running (events/s)", halfOfWriters);
            report("L", half);
            Latencies low = measure(write, sent, store, LOW_RATE, duration, "L500");
            this.report.row("L500: target rate (events/s)", LOW_RATE);
            report("L500", low);
            return new Latencies[] {half, low};
        }
    }

    /** Writes at a rate for a while, with the relay running, and measures each event's write to acknowledgement. */
    private Latencies measure(
            Runnable write,
            AtomicInteger sent,
            OutboxStore store,
            double eventsPerSecond,
            Duration duration,
            String phase)
            throws Exception {
        BenchmarkApplication.latencies.clear();
        BenchmarkApplication.clearStamps();
        this.transactionMicros.clear();
        BenchmarkApplication.recordLatencies = true;
        RelayActivity before = RelayActivity.now();
        MachineCpu cpuBefore = MachineCpu.read();
        int sentBefore = sent.get();
        double seconds = Pacing.run(write, eventsPerSecond, duration);
        MachineCpu cpuAfter = MachineCpu.read();
        int written = sent.get() - sentBefore;
        Workload.awaitDrained(store);
        BenchmarkApplication.recordLatencies = false;
        RelayActivity relay = RelayActivity.now().since(before);
        BenchmarkApplication.afterCommitTrace.write(phase);
        return new Latencies(
                written / seconds,
                Measures.percentiles(BenchmarkApplication.latencies),
                Measures.percentiles(this.transactionMicros)[1],
                Measures.percentiles(BenchmarkApplication.afterCommit)[1],
                Measures.percentiles(BenchmarkApplication.commitToSend),
                Measures.percentiles(BenchmarkApplication.sendToAcknowledgement),
                100.0 * BenchmarkApplication.commitToSend.size() / BenchmarkApplication.afterCommit.size(),
                100.0 * BenchmarkApplication.sentBeforeCommitNoted.sum() / BenchmarkApplication.commitToSend.size(),
                relay.meanBatch(),
                relay.empty() / seconds,
                cpuAfter.coresBusySince(cpuBefore));
    }

    private void report(String phase, Latencies latencies) {
        this.report.row(phase + ": achieved rate (events/s)", latencies.achieved());
        this.report.row(phase + ": write-to-acknowledgement p50 (ms)", latencies.percentiles()[0]);
        this.report.row(phase + ": write-to-acknowledgement p99 (ms)", latencies.percentiles()[1]);
        this.report.row(
                phase + ": write-to-acknowledgement p99.9 (ms)", latencies.percentiles()[2]);
        this.report.row(
                phase + ": the writers' transactions alone, commit included, p99 (ms)", latencies.transactionP99());
        this.report.row(
                phase + ": commit-to-acknowledgement p99, what the relay adds after the commit (ms)",
                latencies.afterCommitP99());
        // The same, split at the relay's send, of the events sent once.
        this.report.row(
                phase + ": events sent once, in the split below (% of those acknowledged)", latencies.splitShare());
        this.report.row(
                phase + ": of those, sent before the writer's thread noted its commit (%)",
                latencies.sentBeforeCommitNoted());
        this.report.row(
                phase + ": commit-to-send p50, the relay's wake-up and claim (ms)",
                latencies.commitToSend()[0]);
        this.report.row(phase + ": commit-to-send p99 (ms)", latencies.commitToSend()[1]);
        this.report.row(
                phase + ": send-to-acknowledgement p50, as the relay sees it (ms)",
                latencies.sendToAcknowledgement()[0]);
        this.report.row(phase + ": send-to-acknowledgement p99 (ms)", latencies.sendToAcknowledgement()[1]);
        this.report.row(phase + ": relay batches meanwhile, mean size (events)", latencies.meanBatch());
        this.report.row(
                phase + ": relay cycles meanwhile that found nothing (per s)", latencies.emptyCyclesPerSecond());
        this.report.cpuRow(phase + ": cores busy, whole machine", latencies.coresBusy());
    }

    /**
     * What one stretch of L measured: the percentiles of write-to-acknowledgement are the p50, p99 and p99.9, in
     * milliseconds, next to the p99 of the writers' transactions alone and the p99 from the end of their commit to
     * the acknowledgement, and the percentiles of that split at the relay's send.
     */
    record Latencies(
            double achieved,
            double[] percentiles,
            double transactionP99,
            double afterCommitP99,
            double[] commitToSend,
            double[] sendToAcknowledgement,
            double splitShare,
            double sentBeforeCommitNoted,
            double meanBatch,
            double emptyCyclesPerSecond,
            double coresBusy) {

        double p99() {
            return this.percentiles[1];
        }
    }
}
