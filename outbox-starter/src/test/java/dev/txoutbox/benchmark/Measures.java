package dev.txoutbox.benchmark;

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
}
