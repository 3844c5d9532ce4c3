package dev.txoutbox.benchmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jspecify.annotations.Nullable;

/**
 * The latency of every event of one stretch of L or P, when {@code -Dbenchmark.trace-dir} names a directory: a CSV
 * file per stretch, each line the event's start (microseconds since the epoch: the end of the writer's commit in L,
 * the send in P) and its latency from there to the broker's acknowledgement, in microseconds. Percentiles say how
 * long the tail is; the trace says when it happens: whether the slow events come alone or in bursts, and at what
 * rhythm.
 */
final class LatencyTrace {

    private static final @Nullable Path DIRECTORY = directory(System.getProperty("benchmark.trace-dir", ""));

    private static final DateTimeFormatter FILE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final String header;

    private final ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();

    /** A trace whose files start with the header line {@code start,header}. */
    LatencyTrace(String header) {
        this.header = header;
    }

    /** Whether the run writes traces. */
    static boolean enabled() {
        return DIRECTORY != null;
    }

    /** Notes an event that started at {@code start} and was acknowledged {@code micros} later. */
    void add(Instant start, long micros) {
        if (DIRECTORY != null) {
            this.lines.add(start.getEpochSecond() * 1_000_000 + start.getNano() / 1_000 + "," + micros);
        }
    }

    /** Forgets the events noted so far. */
    void clear() {
        this.lines.clear();
    }

    /** Writes the events noted so far to a file named after the phase, and forgets them. */
    void write(String phase) {
        if (DIRECTORY == null) {
            return;
        }
        List<String> file = new ArrayList<>();
        file.add("start_epoch_micros," + this.header);
        file.addAll(this.lines);
        this.lines.clear();
        Path path = DIRECTORY.resolve(phase + "-" + FILE_TIME.format(Instant.now()) + ".csv");
        try {
            Files.write(path, file);
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not write the latency trace " + path, ex);
        }
        System.out.println("Latency trace of " + phase + ": " + path);
    }

    private static @Nullable Path directory(String name) {
        if (name.isBlank()) {
            return null;
        }
        Path path = Path.of(name).toAbsolutePath();
        try {
            return Files.createDirectories(path);
        } catch (IOException ex) {
            throw new IllegalArgumentException(
                    "-Dbenchmark.trace-dir=" + name + ": cannot create the directory for latency traces (" + ex
                            + "); name a directory the benchmark may write to, or leave the property out",
                    ex);
        }
    }
}
