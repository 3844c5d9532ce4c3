package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox's figures (waiting rows, lag, dead letters, parked keys), read from the database at most once per
 * refresh interval, however often gauges and the health indicator ask. A failed read is remembered for the interval
 * too, so that an unreachable database costs one slow query per interval, not one per gauge.
 */
final class OutboxStatisticsCache {

    private static final Logger log = LoggerFactory.getLogger(OutboxStatisticsCache.class);

    private final OutboxStore store;

    private final long refreshNanos;

    private @Nullable Reading reading;

    OutboxStatisticsCache(OutboxStore store, Duration refreshInterval) {
        InvalidOutboxProperties.require(
                refreshInterval != null && !refreshInterval.isNegative(),
                "outbox.metrics.refresh-interval",
                refreshInterval,
                "It must be zero or a positive duration such as 5s.");
        this.store = store;
        this.refreshNanos = refreshInterval.toNanos();
    }

    /** The latest reading: figures, or the error that kept the database from answering. */
    synchronized Reading get() {
        long now = System.nanoTime();
        if (this.reading == null || now - this.reading.readAtNanos() >= this.refreshNanos) {
            try {
                this.reading = new Reading(this.store.statistics(), null, now);
            } catch (RuntimeException ex) {
                log.debug("Reading the outbox figures failed", ex);
                this.reading = new Reading(null, ex, now);
            }
        }
        return this.reading;
    }

    /** One figure of the latest reading, or NaN when the database did not answer. */
    double figure(java.util.function.ToDoubleFunction<OutboxStatistics> figure) {
        OutboxStatistics statistics = get().statistics();
        return statistics != null ? figure.applyAsDouble(statistics) : Double.NaN;
    }

    /**
     * One reading.
     *
     * @param statistics the figures, or {@code null} when the read failed
     * @param error why the read failed, or {@code null}
     * @param readAtNanos when it was read, by {@link System#nanoTime()}
     */
    record Reading(
            @Nullable OutboxStatistics statistics, @Nullable RuntimeException error, long readAtNanos) {}
}
