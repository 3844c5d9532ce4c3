package dev.txoutbox.benchmark;

import java.util.Collection;

/** The arithmetic of the phases' figures: rates and percentiles. */
final class Measures {

    private Measures() {}

    static double perSecond(long count, long nanos) {
        return count / (nanos / 1e9);
    }

    /** The quantile of latencies sorted in microseconds, in milliseconds; NaN when there are none. */
    static double percentile(long[] sortedMicros, double quantile) {
        if (sortedMicros.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedMicros.length - 1, Math.ceil(quantile * sortedMicros.length) - 1);
        return sortedMicros[Math.max(0, index)] / 1_000.0;
    }

    /** The p50, p99 and p99.9 of latencies in microseconds, in milliseconds. */
    static double[] percentiles(Collection<Long> micros) {
        long[] sorted = micros.stream().mapToLong(Long::longValue).sorted().toArray();
        return new double[] {percentile(sorted, 0.50), percentile(sorted, 0.99), percentile(sorted, 0.999)};
    }
}
