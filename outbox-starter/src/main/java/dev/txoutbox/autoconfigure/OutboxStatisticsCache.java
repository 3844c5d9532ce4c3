package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox's figures (waiting rows, lag, dead letters, parked keys), read from the database when gauges or the
 * health indicator ask, and reused by everyone who asks within the refresh interval. The interval is short, so that
 * every scrape sees the table as it is and a burst of a few seconds shows; the cost of the read is what bounds how
 * often it runs: the query counts the table, so a reading that took long (a large backlog) is reused for
 * {@value #COST_FACTOR} times as long as it took, which keeps these reads to a small share of one connection's time
 * however large the table grows. A failed read is reused for the interval, or as long as it took if that was longer,
 * so that an unreachable database is not asked again at once by every gauge. Both count from the end of the read.
 */
final class OutboxStatisticsCache {

    /** How many times as long as a successful read took its reading is reused, at least: its cost bound. */
    static final int COST_FACTOR = 20;

    // Bounds the arithmetic of a read that hung for hours; it is still reused for a day at most.
    private static final long MAX_READ_NANOS = Duration.ofDays(1).toNanos() / COST_FACTOR;

    private static final Logger log = LoggerFactory.getLogger(OutboxStatisticsCache.class);

    private final Supplier<OutboxStatistics> reader;

    private final long refreshNanos;

    private final LongSupplier nanoTime;

    private @Nullable Reading reading;

    /** When, by {@link #nanoTime}, the reading is old enough to be read again. */
    private long nextReadNanos;

    OutboxStatisticsCache(OutboxStore store, Duration refreshInterval) {
        this(store::statistics, refreshInterval, System::nanoTime);
    }

    /**
     * @param reader reads the figures from the database
     * @param nanoTime the clock of the interval, as {@link System#nanoTime()}
     */
    OutboxStatisticsCache(Supplier<OutboxStatistics> reader, Duration refreshInterval, LongSupplier nanoTime) {
        InvalidOutboxProperties.require(
                refreshInterval != null && !refreshInterval.isNegative(),
                "outbox.metrics.refresh-interval",
                refreshInterval,
                "It must be zero or a positive duration such as 1s.");
        this.reader = reader;
        this.refreshNanos = refreshInterval.toNanos();
        this.nanoTime = nanoTime;
    }

    /** The latest reading: figures, or the error that kept the database from answering. */
    synchronized Reading get() {
        long now = this.nanoTime.getAsLong();
        if (this.reading == null || now - this.nextReadNanos >= 0) {
            Reading fresh;
            try {
                fresh = new Reading(this.reader.get(), null);
            } catch (RuntimeException ex) {
                log.debug("Reading the outbox figures failed", ex);
                fresh = new Reading(null, ex);
            }
            long end = this.nanoTime.getAsLong();
            long took = Math.min(Math.max(0, end - now), MAX_READ_NANOS);
            long cost = fresh.statistics() != null ? took * COST_FACTOR : took;
            this.nextReadNanos = end + Math.max(this.refreshNanos, cost);
            this.reading = fresh;
        }
        return this.reading;
    }

    /** One figure of the latest reading, or NaN when the database did not answer. */
    double figure(ToDoubleFunction<OutboxStatistics> figure) {
        OutboxStatistics statistics = get().statistics();
        return statistics != null ? figure.applyAsDouble(statistics) : Double.NaN;
    }

    /**
     * One reading.
     *
     * @param statistics the figures, or {@code null} when the read failed
     * @param error why the read failed, or {@code null}
     */
    record Reading(
            @Nullable OutboxStatistics statistics, @Nullable RuntimeException error) {}
}
