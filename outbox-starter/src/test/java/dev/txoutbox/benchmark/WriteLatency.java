package dev.txoutbox.benchmark;

import dev.txoutbox.Outbox;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * L: write-to-acknowledgement latency at half of R's rate, with the default settings; and, as L', when the writers
 * fell short of that rate, once more at three quarters of the rate they reached, where the machine has room to spare.
 */
final class WriteLatency {

    /** Threads that write the events. */
    private static final int WRITERS = 4;

    private final Report report;

    private final boolean full;

    WriteLatency(Report report, boolean full) {
        this.report = report;
        this.full = full;
    }

    /** Measures at the given rate, and with room if need be; returns the first's p50, p99 and p99.9. */
    double[] run(double eventsPerSecond) throws Exception {
        try (ConfigurableApplicationContext context = BenchmarkApplication.start()) {
            Outbox outbox = context.getBean(Outbox.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            String topic = context.getEnvironment().getRequiredProperty("benchmark.topic");
            AtomicInteger sent = new AtomicInteger();
            Runnable write = () -> {
                int i = sent.getAndIncrement();
                transactions.executeWithoutResult(
                        status -> outbox.write(topic, Workload.key(i), new String(Workload.payload(i))));
            };
            // The writers' code path is not the one W ran: unwarmed, the writers fell far short of the rate at first.
            writeAtRate(write, eventsPerSecond, Duration.ofSeconds(this.full ? 15 : 10));
            Workload.awaitDrained(store);
            Duration duration = Duration.ofSeconds(this.full ? 30 : 15);
            Latencies atHalfOfR = measure(write, sent, store, eventsPerSecond, duration);
            this.report.row("L: target rate, half of R (events/s)", eventsPerSecond);
            report("L", atHalfOfR);
            if (atHalfOfR.achieved() < 0.95 * eventsPerSecond) {
                // On a machine where the writers share the cores with the relay, the broker and PostgreSQL, they
                // may not reach half of R at all, and then the figures above are those of a machine without a core
                // to spare, queueing included.
                double rate = 0.75 * atHalfOfR.achieved();
                Latencies withRoom = measure(write, sent, store, rate, duration);
                this.report.row("L': target rate, three quarters of what L's writers reached (events/s)", rate);
                report("L'", withRoom);
                this.report.figure("p99_ms_with_room", withRoom.percentiles()[1]);
            }
            return atHalfOfR.percentiles();
        }
    }

    /** Writes at a rate for a while, with the relay running, and measures each event's write to acknowledgement. */
    private static Latencies measure(
            Runnable write, AtomicInteger sent, OutboxStore store, double eventsPerSecond, Duration duration)
            throws Exception {
        BenchmarkApplication.latencies.clear();
        BenchmarkApplication.recordLatencies = true;
        RelayActivity before = RelayActivity.now();
        MachineCpu cpuBefore = MachineCpu.read();
        int sentBefore = sent.get();
        double seconds = writeAtRate(write, eventsPerSecond, duration);
        MachineCpu cpuAfter = MachineCpu.read();
        int written = sent.get() - sentBefore;
        Workload.awaitDrained(store);
        BenchmarkApplication.recordLatencies = false;
        RelayActivity relay = RelayActivity.now().since(before);
        long[] micros = BenchmarkApplication.latencies.stream()
                .mapToLong(Long::longValue)
                .sorted()
                .toArray();
        return new Latencies(
                written / seconds,
                new double[] {
                    Measures.percentile(micros, 0.50),
                    Measures.percentile(micros, 0.99),
                    Measures.percentile(micros, 0.999)
                },
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
        this.report.row(phase + ": relay batches meanwhile, mean size (events)", latencies.meanBatch());
        this.report.row(
                phase + ": relay cycles meanwhile that found nothing (per s)", latencies.emptyCyclesPerSecond());
        this.report.cpuRow(phase + ": cores busy, whole machine", latencies.coresBusy());
    }

    /**
     * Runs a write in {@value #WRITERS} threads at a rate for a while; returns the seconds it took. Writers that fall
     * behind the schedule write as fast as they can, but only until the time is up: what they wrote is measured
     * against the time, not against the schedule.
     */
    private static double writeAtRate(Runnable write, double perSecond, Duration duration) throws Exception {
        long intervalNanos = (long) (1e9 * WRITERS / perSecond);
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < WRITERS; t++) {
            done.add(pool.submit(() -> {
                long next = System.nanoTime();
                while (System.nanoTime() < end) {
                    write.run();
                    next += intervalNanos;
                    long sleep = next - System.nanoTime();
                    if (sleep > 0) {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : done) {
            future.get();
        }
        pool.shutdown();
        return (System.nanoTime() - start) / 1e9;
    }

    /** What one stretch of L measured. */
    private record Latencies(
            double achieved, double[] percentiles, double meanBatch, double emptyCyclesPerSecond, double coresBusy) {}
}
