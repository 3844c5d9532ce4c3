package dev.txoutbox.benchmark;

import dev.txoutbox.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * The figures of a run: each row is printed as its phase measures it, kept for the table printed at the end, and
 * kept, rounded, for the JSON written to {@code target/benchmark/}, next to the figures derived from several phases.
 */
final class Report {

    private final Map<String, Object> figures = new LinkedHashMap<>();

    private final List<String> table = new ArrayList<>();

    /** Whether a kernel memory monitor ran, {@code on}, {@code off} or {@code unknown}, as the RESULT lines say. */
    private String damon = "unknown";

    /** What goes before each row's name: the relay's mode, while phases run in log mode. */
    private String prefix = "";

    /** Names the rows that follow as measured with the relay in log mode, or, with false, in poll mode again. */
    void logMode(boolean log) {
        this.prefix = log ? "log mode, " : "";
    }

    /**
     * Notes whether the kernel's data access monitor runs on the machine ({@link KernelMemoryMonitor}): the JSON
     * holds what it does, the RESULT lines whether it ran.
     */
    void damon(String description) {
        this.damon = description.startsWith("on") ? "on" : description.equals("off") ? "off" : "unknown";
        this.figures.put("damon", description);
    }

    /** A row of the table, printed at once; its figure goes into the JSON under the row's name. */
    void row(String name, double value) {
        String measure = this.prefix + name;
        this.table.add(String.format(Locale.ROOT, "| %s | %,.1f |", measure, value));
        this.figures.put(measure, round(value));
        System.out.printf(Locale.ROOT, "  %-58s %,14.1f%n", measure, value);
    }

    /**
     * A row of the whole machine's CPU time per event, row or transaction of a phase, in microseconds, unless it
     * could not be read. Returns it.
     */
    double cpuRow(String phase, String unit, double cpuSeconds, long count) {
        double micros = cpuSeconds * 1e6 / count;
        cpuRow(phase + ": CPU time per " + unit + ", whole machine (µs)", micros);
        return micros;
    }

    /** A row of a CPU figure, unless it could not be read. */
    void cpuRow(String measure, double value) {
        if (!Double.isNaN(value)) {
            row(measure, value);
        }
    }

    /** A figure of the JSON only, rounded as the rows' figures are. */
    void figure(String name, double value) {
        this.figures.put(name, round(value));
    }

    /** A count of the JSON only, as it is. */
    void count(String name, int value) {
        this.figures.put(name, value);
    }

    /** The rows of one phase run alone, without the table's header. */
    void printRows() {
        System.out.println();
        this.table.forEach(System.out::println);
    }

    /** The table of a whole run, the JSON file of its figures, how to reproduce them, and the RESULT line. */
    void printAll(TestDatabase database, String mode, String durability, Result result) throws IOException {
        String databaseName = database.name().toLowerCase(Locale.ROOT);
        System.out.println();
        System.out.println("| measure | figure |");
        System.out.println("|---|---|");
        this.table.forEach(System.out::println);
        Path out = Path.of("target", "benchmark", "result-" + databaseName + "-" + mode + "-" + durability + ".json");
        Files.createDirectories(out.getParent());
        Files.writeString(
                out,
                JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(this.figures));
        System.out.println();
        System.out.println("Figures as JSON: " + out.toAbsolutePath());
        System.out.println("Reproduce: mvn -q -pl outbox-starter -am -Pbenchmark test-compile -Dbenchmark.mode=" + mode
                + " -Dbenchmark.durability=" + durability
                + (database == TestDatabase.POSTGRESQL ? "" : " -Dbenchmark.database=" + databaseName));
        System.out.printf(
                Locale.ROOT,
                "RESULT database=%s mode=%s relay=poll relay_eps=%.0f relay_vs_producer=%.2f relay_vs_ceiling=%.2f writer_overhead=%.3f"
                        + " p99_ms=%.1f p99_vs_producer=%.2f p99_500_ms=%.1f scale4=%.2f order_violations=%d damon=%s%n",
                databaseName,
                durability,
                result.relayEps(),
                result.relayVsProducer(),
                result.relayVsCeiling(),
                result.writerOverhead(),
                result.p99Ms(),
                result.p99VsProducer(),
                result.p99LowRateMs(),
                result.scale4(),
                result.orderViolations(),
                this.damon);
    }

    /**
     * The RESULT line of log mode, measured in the same run as poll mode's: R's rate against K's, W's writer
     * overhead, L's p99 at the rate of poll mode's L against P's, and L's p99 at the low rate.
     */
    void printLogResult(String durability, LogResult result) {
        printModeResult("log", durability, result);
    }

    /** The line of {@link #printLogResult} for poll mode, when only R, W and L ran ({@code -Dbenchmark.phase=M}). */
    void printPollResult(String durability, LogResult result) {
        printModeResult("poll", durability, result);
    }

    private void printModeResult(String relay, String durability, LogResult result) {
        System.out.printf(
                Locale.ROOT,
                "RESULT database=postgresql mode=%s relay=%s relay_eps=%.0f relay_vs_producer=%.2f"
                        + " writer_overhead=%.3f p99_ms=%.1f p99_vs_producer=%.2f p99_500_ms=%.1f order_violations=%d"
                        + " damon=%s%n",
                durability,
                relay,
                result.relayEps(),
                result.relayVsProducer(),
                result.writerOverhead(),
                result.p99Ms(),
                result.p99VsProducer(),
                result.p99LowRateMs(),
                result.orderViolations(),
                this.damon);
    }

    /** The figures of a RESULT line of one relay mode: R, W and L, unrounded. */
    record LogResult(
            double relayEps,
            double relayVsProducer,
            double writerOverhead,
            double p99Ms,
            double p99VsProducer,
            double p99LowRateMs,
            int orderViolations) {}

    static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    /**
     * The figures of the RESULT line, unrounded: R's rate, against K's and against the lesser of K and D; W's writer
     * overhead; L's p99 at half of W's rate, against P's at the same rate, and L's p99 at the low rate; S4 against R;
     * and S's per-key order violations.
     */
    record Result(
            double relayEps,
            double relayVsProducer,
            double relayVsCeiling,
            double writerOverhead,
            double p99Ms,
            double p99VsProducer,
            double p99LowRateMs,
            double scale4,
            int orderViolations) {}
}
