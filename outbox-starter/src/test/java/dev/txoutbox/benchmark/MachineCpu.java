package dev.txoutbox.benchmark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The CPU time that the whole machine spent between two readings: the benchmark's JVM with the broker, the relay and
 * the producers in it, and PostgreSQL's processes alike. Read from Linux's {@code /proc/stat}; elsewhere every
 * reading is {@link #UNKNOWN} and the figures built on it are left out.
 *
 * @param busy clock ticks spent on anything but idling, waiting for I/O, or the hypervisor's other guests (steal)
 * @param total all clock ticks of all cores
 * @param nanos when it was read
 */
record MachineCpu(long busy, long total, long nanos) {

    static final MachineCpu UNKNOWN = new MachineCpu(-1, -1, 0);

    private static final Path STAT = Path.of("/proc/stat");

    static MachineCpu read() {
        if (!Files.isReadable(STAT)) {
            return UNKNOWN;
        }
        try (var lines = Files.lines(STAT)) {
            // cpu user nice system idle iowait irq softirq steal guest guest_nice: the first line adds up all cores;
            // guest time is already counted in user and nice.
            long[] ticks = lines.findFirst()
                    .map(line -> Arrays.stream(line.trim().split("\\s+"))
                            .skip(1)
                            .limit(8)
                            .mapToLong(Long::parseLong)
                            .toArray())
                    .orElseThrow();
            long busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6];
            return new MachineCpu(busy, Arrays.stream(ticks).sum(), System.nanoTime());
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not read " + STAT, ex);
        }
    }

    /**
     * CPU seconds the machine spent since an earlier reading: the busy share of all ticks, times the cores, times
     * the wall-clock time between the readings, so that the length of a tick does not matter. NaN when unknown.
     */
    double secondsSince(MachineCpu earlier) {
        if (this == UNKNOWN || earlier == UNKNOWN || this.total == earlier.total) {
            return Double.NaN;
        }
        double busyShare = (this.busy - earlier.busy) / (double) (this.total - earlier.total);
        return busyShare * Runtime.getRuntime().availableProcessors() * (this.nanos - earlier.nanos) / 1e9;
    }

    /** How many of the cores were busy on average since an earlier reading. NaN when unknown. */
    double coresBusySince(MachineCpu earlier) {
        return secondsSince(earlier) / ((this.nanos - earlier.nanos) / 1e9);
    }
}
