package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * W: business transactions per second and their p99, a JPA insert with {@code @OutboxEvent} against the same insert
 * without it and against two inserts, with the relay running, and once more with the relay stopped, for the writer's
 * own cost; and then with an event without a key, for the cost of the lock that writers of one key take.
 */
final class WriterThroughput {

    private static final int THREADS = 4;

    private final Report report;

    private final boolean full;

    /** Properties of the application, such as the relay's mode. */
    private final String[] properties;

    WriterThroughput(Report report, boolean full, String... properties) {
        this.report = report;
        this.full = full;
        this.properties = properties;
    }

    Writers run() throws Exception {
        try (ConfigurableApplicationContext context = BenchmarkApplication.start(this.properties)) {
            BenchmarkService service = context.getBean(BenchmarkService.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            List<OutboxRelay> relays =
                    List.copyOf(context.getBeansOfType(OutboxRelay.class).values());
            String data = Workload.DATA;
            // Each variant warms up first: with a shorter warm-up, the first one measured ran slower than the others
            // in a full run, the plain insert below the one with a second row.
            Duration warmUp = Duration.ofSeconds(this.full ? 10 : 3);
            runTransactions(THREADS, warmUp, () -> service.placeWithoutEvent("warm-up", data));
            runTransactions(THREADS, warmUp, () -> service.placeTwiceWithoutEvent("warm-up", data));
            runTransactions(THREADS, warmUp, () -> service.placeWithEvent("warm-up", data));
            runTransactions(THREADS, warmUp, () -> service.placeWithKeylessEvent("warm-up", data));
            // The variants take turns, round after round, so that what drifts while W runs (the JIT compiler is
            // still at work, the business table grows) weighs on all of them alike. Measured one after the other,
            // the first variant ran markedly slower than the second, though it does less.
            int rounds = this.full ? 5 : 2;
            Duration slice = Duration.ofSeconds(this.full ? 6 : 5);
            Transactions without = new Transactions();
            Transactions twoRows = new Transactions();
            Transactions with = new Transactions();
            Transactions relayStopped = new Transactions();
            Transactions keylessRelayStopped = new Transactions();
            RelayActivity relay = RelayActivity.NONE;
            for (int round = 0; round < rounds; round++) {
                without.run(slice, () -> service.placeWithoutEvent("bench", data));
                // What a second row of the same size costs any transaction, outbox or not.
                twoRows.run(slice, () -> service.placeTwiceWithoutEvent("bench", data));
                RelayActivity before = RelayActivity.now();
                with.run(slice, () -> service.placeWithEvent("bench", data));
                relay = relay.plus(RelayActivity.now().since(before));
                // The writer's own cost, apart from the relay's, which shares the machine's cores while W runs.
                relays.forEach(OutboxRelay::stop);
                relayStopped.run(slice, () -> service.placeWithEvent("bench", data));
                // The same without a key: no key lock, the rest alike.
                keylessRelayStopped.run(slice, () -> service.placeWithKeylessEvent("bench", data));
                relays.forEach(OutboxRelay::start);
                // What piled up meanwhile is drained, and its dead rows dropped, before the next round.
                Workload.awaitDrained(store);
                Workload.discardDeadRows(store);
            }
            report(rounds, slice, without, twoRows, with, relayStopped, keylessRelayStopped, relay);
            return new Writers(with.perSecond(), without.perSecond(), without.cpuSeconds() * 1e6 / without.count());
        }
    }

    private void report(
            int rounds,
            Duration slice,
            Transactions without,
            Transactions twoRows,
            Transactions with,
            Transactions relayStopped,
            Transactions keylessRelayStopped,
            RelayActivity relay) {
        Report report = this.report;
        report.row("W: rounds, each variant " + slice.toSeconds() + " s in each", rounds);
        report.row("W: JPA insert without @OutboxEvent (tx/s)", without.perSecond());
        report.row("W: JPA insert without @OutboxEvent, p99 (ms)", without.p99());
        report.row("W: two JPA inserts without @OutboxEvent (tx/s)", twoRows.perSecond());
        report.row("W: JPA insert with @OutboxEvent (tx/s)", with.perSecond());
        report.row("W: JPA insert with @OutboxEvent, p99 (ms)", with.p99());
        report.row("W: relay batches meanwhile, mean size (events)", relay.meanBatch());
        report.row(
                "W: relay cycles meanwhile that found nothing (per s)",
                relay.empty() / (rounds * (double) slice.toSeconds()));
        report.row("W: JPA insert with @OutboxEvent, relay stopped (tx/s)", relayStopped.perSecond());
        report.row("W: JPA insert with @OutboxEvent, relay stopped, p99 (ms)", relayStopped.p99());
        report.row(
                "W: JPA insert with @OutboxEvent without a key (no key lock), relay stopped (tx/s)",
                keylessRelayStopped.perSecond());
        report.row(
                "W: JPA insert with @OutboxEvent without a key (no key lock), relay stopped, p99 (ms)",
                keylessRelayStopped.p99());
        report.cpuRow("W without @OutboxEvent", "transaction", without.cpuSeconds(), without.count());
        report.cpuRow("W without @OutboxEvent: cores busy, whole machine", without.coresBusy());
        report.cpuRow("W two inserts without @OutboxEvent", "transaction", twoRows.cpuSeconds(), twoRows.count());
        report.cpuRow("W with @OutboxEvent", "transaction", with.cpuSeconds(), with.count());
        report.cpuRow("W with @OutboxEvent: cores busy, whole machine", with.coresBusy());
        report.cpuRow(
                "W with @OutboxEvent, relay stopped", "transaction", relayStopped.cpuSeconds(), relayStopped.count());
        report.figure("writer_overhead_relay_stopped", 1 - relayStopped.perSecond() / without.perSecond());
        report.figure("second_row_overhead", 1 - twoRows.perSecond() / without.perSecond());
        report.figure("key_lock_cost", 1 - relayStopped.perSecond() / keylessRelayStopped.perSecond());
    }

    /** Runs transactions in threads for a while; returns each one's latency in microseconds. */
    private static long[] runTransactions(int threads, Duration duration, Runnable transaction) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long end = System.nanoTime() + duration.toNanos();
        List<Future<long[]>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            results.add(pool.submit(() -> {
                List<Long> micros = new ArrayList<>();
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    transaction.run();
                    micros.add((System.nanoTime() - start) / 1_000);
                }
                return micros.stream().mapToLong(Long::longValue).toArray();
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> result : results) {
            all.add(result.get());
        }
        pool.shutdown();
        return all.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /**
     * What W measured: transactions per second with and without the event, and the whole machine's CPU time per
     * transaction without it, in microseconds.
     */
    record Writers(double withEvent, double withoutEvent, double withoutEventCpuMicros) {}

    /** The latencies of one W variant's transactions over all its rounds, the time they took, and the CPU time. */
    private static final class Transactions {

        private final List<long[]> rounds = new ArrayList<>();

        private double seconds;

        private double cpuSeconds;

        /** Runs one round of this variant's transactions. */
        void run(Duration slice, Runnable transaction) throws Exception {
            MachineCpu before = MachineCpu.read();
            this.rounds.add(runTransactions(THREADS, slice, transaction));
            this.cpuSeconds += MachineCpu.read().secondsSince(before);
            this.seconds += slice.toNanos() / 1e9;
        }

        double cpuSeconds() {
            return this.cpuSeconds;
        }

        double coresBusy() {
            return this.cpuSeconds / this.seconds;
        }

        double perSecond() {
            return count() / this.seconds;
        }

        double p99() {
            long[] sorted =
                    this.rounds.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return Measures.percentile(sorted, 0.99);
        }

        long count() {
            return this.rounds.stream().mapToLong(round -> round.length).sum();
        }
    }
}
