package dev.txoutbox.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Measures the relay against what this machine can do at most, in one run, on embedded PostgreSQL and Kafka, with
 * the same records throughout (about 1 KiB of JSON, keys spread over 10,000 aggregates, acks=all, idempotence; see
 * {@link Workload}), one class per phase:
 *
 * <ul>
 *   <li>K ({@link KafkaCeiling}): a plain Kafka producer sending the records from memory, the broker's ceiling;
 *   <li>D ({@link DatabaseCeiling}): a bare JDBC loop that claims ids with SKIP LOCKED and deletes, sending nothing,
 *       the database's ceiling; the same loop reading whole rows, as a relay must; and the commits one connection
 *       makes in a second, which the disk bounds when PostgreSQL keeps its commits;
 *   <li>R ({@link RelayDrain}): the relay draining a backlog, with its rate at the start and at the end of the drain;
 *   <li>C ({@link CycleTimeSplit}): R once more, with the time of its cycles split into claim, sends, acknowledgements,
 *       delete and commit; and again with commits that wait for their flush ({@code synchronousCommit});
 *   <li>W ({@link WriterThroughput}): business transactions per second and their p99, a JPA insert with {@code
 *       @OutboxEvent} against the same insert without it, with the relay running, and once more with the relay
 *       stopped, for the writer's own cost;
 *   <li>L ({@link WriteLatency}): write-to-acknowledgement latency with the default settings, at half of the rate
 *       W's writers reached with the relay running, and at 500 events per second;
 *   <li>P ({@link ProducerLatency}): a plain producer sending the records from memory at the rates L's writers
 *       reached, the reference for L's latencies; it runs with L, also when L runs alone;
 *   <li>S ({@link RelayDrain}): R with 1, 2 and 4 relays on one table, checking per-key order on the consumed records;
 *   <li>H ({@link HotKeyDrain}), only when asked for with {@code -Dbenchmark.phase=H}: one relay draining rows that
 *       all have one key;
 *   <li>O ({@link OneEventCycles}), only when asked for with {@code -Dbenchmark.phase=O}: the time of a relay cycle
 *       that publishes one event, and of one that finds nothing; then the parts of one-event cycles, as C splits them.
 * </ul>
 *
 * K, D, R, S and W also report the whole machine's CPU time per event, row or transaction (see {@link
 * MachineCpu}), and R, S, W and L how many of the cores were busy; from K's and D's follow the most events the cores
 * can carry and the least writer overhead they allow.
 *
 * <p>Before any of them, the relay drains backlogs until JIT compilation takes at most 5 % of one, or ten of them
 * ({@link WarmUp}), so that the ceilings and the relay run compiled code alike.
 *
 * <p>Run it with {@code mvn -q -pl outbox-starter -am -Pbenchmark test-compile} (quick: 100,000 rows), or add
 * {@code -Dbenchmark.mode=full} (1,000,000 rows). It prints a table and a RESULT line, and writes the figures as
 * JSON to {@code target/benchmark/} ({@link Report}). PostgreSQL keeps its commits as a production server does
 * ({@code fsync}, {@code synchronous_commit} and {@code full_page_writes} on), unless {@code
 * -Dbenchmark.durability=fsync-free} has it run as the tests do, without flushing its commits to disk: what the CPU
 * alone allows. {@code -Dbenchmark.database=mariadb} runs it on the embedded MariaDB instead (durable: {@code
 * innodb_flush_log_at_trx_commit=1}), without D and C, which read PostgreSQL's own statements and statistics.
 */
public final class OutboxBenchmark {

    /** The property that has the benchmark's application run its relay in log mode. */
    private static final String LOG_MODE = "outbox.relay.mode=log";

    /** The backlog of C, which only needs enough cycles for its means. */
    private static final int CYCLE_SPLIT_ROWS = 200_000;

    private final String mode;

    private final int rows;

    private final boolean full;

    private final Report report = new Report();

    /** Whether PostgreSQL keeps its commits ({@code durable}) or runs as the tests do ({@code fsync-free}). */
    private final String durability;

    private OutboxBenchmark(String mode, String durability) {
        this.mode = mode;
        this.durability = durability;
        this.full = mode.equals("full");
        this.rows = this.full ? 1_000_000 : 100_000;
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "quick";
        if (!mode.equals("quick") && !mode.equals("full")) {
            throw new IllegalArgumentException("Unknown benchmark mode '" + mode + "': use quick or full.");
        }
        String durability = System.getProperty("benchmark.durability", "durable");
        if (!durability.equals("durable") && !durability.equals("fsync-free")) {
            throw new IllegalArgumentException("Unknown benchmark.durability '" + durability
                    + "': use durable (PostgreSQL flushes every commit, as in production) or fsync-free.");
        }
        int status = 0;
        try {
            new OutboxBenchmark(mode, durability).run();
        } catch (Exception ex) {
            ex.printStackTrace();
            status = 1;
        }
        EmbeddedInfrastructure.stop();
        // The embedded servers' threads would keep the JVM alive.
        System.exit(status);
    }

    private void run() throws Exception {
        System.out.printf(
                "Outbox benchmark, %s mode: %,d rows, %,d keys, 1 KiB JSON payloads, acks=all, idempotent producer,"
                        + " %d cores%n",
                this.mode, this.rows, Workload.KEYS, Runtime.getRuntime().availableProcessors());
        String damon = KernelMemoryMonitor.describe();
        System.out.println("Kernel data access monitor (DAMON): " + damon
                + (damon.startsWith("on") ? ", whose passes pause a core: see docs/performance.md" : ""));
        this.report.damon(damon);
        boolean durable = this.durability.equals("durable");
        if (Workload.DATABASE == TestDatabase.MARIADB) {
            EmbeddedInfrastructure.mariaDb(durable);
            try (HikariDataSource database = Workload.DATABASE.newDatabase()) {
                // What the server really runs with, rather than what was asked of it.
                System.out.println("MariaDB, " + this.durability + ": "
                        + JdbcClient.create(database)
                                .sql("SELECT CONCAT(VERSION(), ', innodb_flush_log_at_trx_commit=',"
                                        + " @@innodb_flush_log_at_trx_commit, ', sync_binlog=', @@sync_binlog,"
                                        + " ', log_bin=', @@log_bin)")
                                .query(String.class)
                                .single());
            }
        } else {
            EmbeddedPostgres postgres = EmbeddedInfrastructure.postgres(durable);
            // What the server really runs with, rather than what was asked of it.
            System.out.println("PostgreSQL, " + this.durability + ": "
                    + JdbcClient.create(postgres.getPostgresDatabase())
                            .sql("SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings"
                                    + " WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')")
                            .query(String.class)
                            .single());
            // The tests' bound on the WAL a slot may hold is smaller than what a full run's backlog of a million rows
            // writes before the log-mode relay reads it: the server would invalidate the slot at once, and log mode's
            // phases would measure the relay polling the table while it starts the log anew.
            EmbeddedInfrastructure.setMaxSlotWalKeepSize("-1");
        }
        EmbeddedInfrastructure.kafka();

        // Compiled code first, so that the ceilings and the relay are measured alike.
        WarmUp.run();
        String phase = System.getProperty("benchmark.phase", "");
        if (!phase.isEmpty()) {
            runPhase(phase);
            return;
        }
        boolean postgres = Workload.DATABASE == TestDatabase.POSTGRESQL;
        Pace k = new KafkaCeiling(this.report, this.rows).run();
        // D and C read PostgreSQL's own statements and statistics: on MariaDB, R, S, W and L run against K and P.
        Pace[] d = postgres ? new DatabaseCeiling(this.report, this.rows).run() : null;
        RelayDrain drain = new RelayDrain(this.report, this.rows);
        RelayDrain.Drain s1 = drain.run(1);
        RelayDrain.Drain s2 = drain.run(2);
        RelayDrain.Drain s4 = drain.run(4);
        if (postgres) {
            CycleTimeSplit.run(this.report, Math.min(this.rows, CYCLE_SPLIT_ROWS));
        }
        WriterThroughput.Writers w = new WriterThroughput(this.report, this.full).run();
        double halfOfWriters = w.withEvent() / 2;
        WriteLatency.Latencies[] l = new WriteLatency(this.report, this.full).run(halfOfWriters);
        // The producer at the rates L's writers reached, which may fall short of the rates asked for.
        double[][] p = new ProducerLatency(this.report, this.full).run(l[0].achieved(), l[1].achieved());

        double ceiling = d != null ? Math.min(k.perSecond(), d[0].perSecond()) : Double.NaN;
        if (d != null) {
            cpuBounds(k, d[1], s1, w);
        }
        Report.Result result = new Report.Result(
                s1.eventsPerSecond(),
                s1.eventsPerSecond() / k.perSecond(),
                s1.eventsPerSecond() / ceiling,
                1 - w.withEvent() / w.withoutEvent(),
                l[0].p99(),
                l[0].p99() / p[0][1],
                l[1].p99(),
                s4.eventsPerSecond() / s1.eventsPerSecond(),
                s1.orderViolations() + s2.orderViolations() + s4.orderViolations());
        this.report.figure("relay_eps", result.relayEps());
        this.report.figure("relay_vs_producer", result.relayVsProducer());
        this.report.figure("relay_vs_ceiling", result.relayVsCeiling());
        this.report.figure("writer_overhead", result.writerOverhead());
        this.report.figure("p99_ms", result.p99Ms());
        this.report.figure("p99_vs_producer", result.p99VsProducer());
        this.report.figure("p99_500_ms", result.p99LowRateMs());
        this.report.figure("p99_500_vs_producer", l[1].p99() / p[1][1]);
        this.report.figure("scale4", result.scale4());
        this.report.count("order_violations", result.orderViolations());
        this.report.figure("end_vs_start", s1.endRate() / s1.startRate());
        Report.LogResult log = postgres ? logMode(k, halfOfWriters, p) : null;
        this.report.printAll(Workload.DATABASE, this.mode, this.durability, result);
        if (log != null) {
            this.report.printLogResult(this.durability, log);
        }
    }

    /**
     * R, W and L once more with the relay in log mode (see {@link RelayDrain#runLog()}), after those of poll mode in
     * the same run: L at the rate of poll mode's L, against P at the rates poll mode's writers reached.
     */
    private Report.LogResult logMode(Pace k, double halfOfWriters, double[][] p) throws Exception {
        this.report.logMode(true);
        try {
            RelayDrain.Drain r = new RelayDrain(this.report, this.rows).runLog();
            WriterThroughput.Writers w = new WriterThroughput(this.report, this.full, LOG_MODE).run();
            Workload.dropIdleSlots();
            WriteLatency.Latencies[] l = new WriteLatency(this.report, this.full, LOG_MODE).run(halfOfWriters);
            Workload.dropIdleSlots();
            Report.LogResult result = new Report.LogResult(
                    r.eventsPerSecond(),
                    r.eventsPerSecond() / k.perSecond(),
                    1 - w.withEvent() / w.withoutEvent(),
                    l[0].p99(),
                    l[0].p99() / p[0][1],
                    l[1].p99(),
                    r.orderViolations());
            this.report.figure("log_relay_eps", result.relayEps());
            this.report.figure("log_relay_vs_producer", result.relayVsProducer());
            this.report.figure("log_writer_overhead", result.writerOverhead());
            this.report.figure("log_p99_ms", result.p99Ms());
            this.report.figure("log_p99_vs_producer", result.p99VsProducer());
            this.report.figure("log_p99_500_ms", result.p99LowRateMs());
            return result;
        } finally {
            this.report.logMode(false);
        }
    }

    /**
     * What the CPU time measured in K and D tells about R and W: every event the relay publishes costs the machine at
     * least what K spent on one (the producer and the broker) plus what D spent on one whole row (claiming, reading
     * and deleting it). Each part is the cheaper form of what the relay does: K's producer fills its batches without
     * waiting for the database, and D's claim reads no rows beyond those it takes. So the cores can carry no more
     * events than their number divided by that sum; and a business transaction that writes an event costs at least
     * the plain one's CPU time plus that sum, even if writing the outbox row itself cost nothing, which sets the
     * least writer overhead that these cores allow while writers keep them busy.
     */
    private void cpuBounds(Pace kafka, Pace wholeRows, RelayDrain.Drain relay, WriterThroughput.Writers writers) {
        double perEvent = kafka.cpuMicros() + wholeRows.cpuMicros();
        if (Double.isNaN(perEvent)) {
            return;
        }
        double bound = Runtime.getRuntime().availableProcessors() * 1e6 / perEvent;
        this.report.row("R: the most the cores allow at K's plus whole-row D's CPU time per event (events/s)", bound);
        this.report.figure("cpu_bound_vs_kafka", bound / kafka.perSecond());
        this.report.figure("relay_vs_cpu_bound", relay.eventsPerSecond() / bound);
        double plain = writers.withoutEventCpuMicros();
        if (!Double.isNaN(plain)) {
            double floor = perEvent / (plain + perEvent);
            this.report.row(
                    "W: least writer overhead the cores allow, K's plus whole-row D's CPU time per event (%)",
                    100 * floor);
            this.report.figure("writer_overhead_cpu_floor", floor);
        }
    }

    /** One phase alone, after the warm-up, to see the effect of a change on it quickly: a table, no RESULT line. */
    private void runPhase(String phase) throws Exception {
        switch (phase) {
            case "K" -> new KafkaCeiling(this.report, this.rows).run();
            case "D" -> new DatabaseCeiling(this.report, this.rows).run();
            case "R" -> new RelayDrain(this.report, this.rows).run(1);
            case "S" -> {
                RelayDrain drain = new RelayDrain(this.report, this.rows);
                drain.run(1);
                drain.run(2);
                drain.run(4);
            }
            case "C" -> CycleTimeSplit.run(this.report, Math.min(this.rows, CYCLE_SPLIT_ROWS));
            case "W" -> new WriterThroughput(this.report, this.full).run();
            case "L" -> {
                double halfOfWriters =
                        new WriterThroughput(this.report, this.full).run().withEvent() / 2;
                WriteLatency.Latencies[] l = new WriteLatency(this.report, this.full).run(halfOfWriters);
                new ProducerLatency(this.report, this.full).run(l[0].achieved(), l[1].achieved());
            }
            case "M" -> {
                // R, W and L in both modes, against K and P, with a RESULT line for each mode.
                Pace k = new KafkaCeiling(this.report, this.rows).run();
                RelayDrain.Drain r = new RelayDrain(this.report, this.rows).run(1);
                WriterThroughput.Writers w = new WriterThroughput(this.report, this.full).run();
                double halfOfWriters = w.withEvent() / 2;
                WriteLatency.Latencies[] l = new WriteLatency(this.report, this.full).run(halfOfWriters);
                double[][] p = new ProducerLatency(this.report, this.full).run(l[0].achieved(), l[1].achieved());
                Report.LogResult log = logMode(k, halfOfWriters, p);
                this.report.printRows();
                System.out.println();
                System.out.println("Reproduce: mvn -q -pl outbox-starter -am -Pbenchmark test-compile"
                        + " -Dbenchmark.phase=M -Dbenchmark.durability=" + this.durability
                        + (this.full ? " -Dbenchmark.mode=full" : ""));
                this.report.printPollResult(
                        this.durability,
                        new Report.LogResult(
                                r.eventsPerSecond(),
                                r.eventsPerSecond() / k.perSecond(),
                                1 - w.withEvent() / w.withoutEvent(),
                                l[0].p99(),
                                l[0].p99() / p[0][1],
                                l[1].p99(),
                                r.orderViolations()));
                this.report.printLogResult(this.durability, log);
                return;
            }
            case "H" -> new HotKeyDrain(this.report).run();
            case "O" -> {
                new OneEventCycles(this.report).run();
                if (Workload.DATABASE == TestDatabase.POSTGRESQL) {
                    CycleTimeSplit.runOneEvent(this.report, OneEventCycles.CYCLES);
                }
            }
            default ->
                throw new IllegalArgumentException("Unknown benchmark phase '" + phase
                        + "': use K, D, R, C, S, W, L, M (R, W and L in poll and in log mode), H or O, or leave it"
                        + " out for all but H and O.");
        }
        this.report.printRows();
    }
}
