package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The outbox's figures (waiting rows, lag, dead letters, parked keys), read from the database when gauges or the
 * health indicator ask, and reused by everyone who asks within the refresh interval. The interval is short, so that
 * every scrape sees the table as it is and a burst of a few seconds shows; the cost of the read is what bounds how
 * often it runs: the query counts the table, so a reading that took long (a large backlog) is reused for
 * {@value #COST_FACTOR} times as long as it took, which keeps these reads to a small share of one connection's time
 * however large the table grows, but for {@link #MAX_REUSE} at most (or the interval, if longer), so that the health
 * indicator sees a growing lag soon. A failed read is reused for the interval, or as long as it took if that was
 * longer (up to the same bound), so that an unreachable database is not asked again at once by every gauge. Both count
 * from the end of the read.
 *
 * <p>Only one read runs at a time, and nobody waits for it but the first caller ever: whoever asks while a read runs
 * gets the previous reading, so that a scrape or a health check never hangs behind a slow or stuck read. A reading
 * that is reused reports the lag it read plus its age, an upper bound of the lag now. A read that takes longer than
 * {@link #MAX_REUSE} is cancelled by its query timeout, and fails.
 */
final class OutboxStatisticsCache {

    /** How many times as long as a successful read took its reading is reused, at least: its cost bound. */
    static final int COST_FACTOR = 20;

    /** The longest a reading is reused for its cost, unless the refresh interval is longer. */
    static final Duration MAX_REUSE = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(OutboxStatisticsCache.class);

    private final Supplier<OutboxStatistics> reader;

    private final long refreshNanos;

    private final long maxReuseNanos;

    private final LongSupplier nanoTime;

    private final ReentrantLock reading = new ReentrantLock();

    private volatile @Nullable Taken last;

    OutboxStatisticsCache(OutboxStore store, Duration refreshInterval) {
        this(reader(store, MAX_REUSE), refreshInterval, System::nanoTime);
    }

    /**
     * Reads the figures in a transaction of their own with a timeout, which Spring applies to the statement as its
     * query timeout, so that a read stuck behind a lock fails instead of holding the cache's read for good.
     */
    static Supplier<OutboxStatistics> reader(OutboxStore store, Duration timeout) {
        TransactionTemplate transaction = new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));
        transaction.setTimeout(Math.toIntExact(Math.max(1, timeout.toSeconds())));
        return () -> transaction.execute(status -> store.statistics());
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
        this.maxReuseNanos = Math.max(this.refreshNanos, MAX_REUSE.toNanos());
        this.nanoTime = nanoTime;
    }

    /**
     * The latest reading: figures, or the error that kept the database from answering. Reads the tables when the
     * reading is due and no other read runs; waits only when there is no reading yet.
     */
    Reading get() {
        Taken taken = this.last;
        if (taken != null && this.nanoTime.getAsLong() - taken.nextReadNanos() < 0) {
            return taken.at(this.nanoTime.getAsLong());
        }
        if (taken == null) {
            this.reading.lock();
        } else if (!this.reading.tryLock()) {
            return taken.at(this.nanoTime.getAsLong());
        }
        try {
            taken = this.last;
            long start = this.nanoTime.getAsLong();
            if (taken == null || start - taken.nextReadNanos() >= 0) {
                taken = read(start);
                this.last = taken;
            }
            return taken.at(this.nanoTime.getAsLong());
        } finally {
            this.reading.unlock();
        }
    }

    private Taken read(long start) {
        OutboxStatistics statistics = null;
        RuntimeException error = null;
        try {
            statistics = this.reader.get();
        } catch (RuntimeException ex) {
            log.debug("Reading the outbox figures failed", ex);
            error = ex;
        }
        long end = this.nanoTime.getAsLong();
        long took = Math.min(Math.max(0, end - start), this.maxReuseNanos);
        long cost = statistics != null ? took * COST_FACTOR : took;
        long reuse = Math.max(this.refreshNanos, Math.min(cost, this.maxReuseNanos));
        return new Taken(statistics, error, start, end + reuse);
    }

    /** One figure of the latest reading, or NaN when the database did not answer. */
    double figure(ToDoubleFunction<OutboxStatistics> figure) {
        OutboxStatistics statistics = get().statistics();
        return statistics != null ? figure.applyAsDouble(statistics) : Double.NaN;
    }

    /** The relay's lag by the latest reading, in seconds (see {@link Reading#lag()}), or NaN. */
    double lagSeconds() {
        Duration lag = get().lag();
        return lag != null ? lag.toNanos() / 1e9 : Double.NaN;
    }

    /** A read, and when by {@link #nanoTime} it began and its reading is due to be read again. */
    private record Taken(
            @Nullable OutboxStatistics statistics,
            @Nullable RuntimeException error,
            long startNanos,
            long nextReadNanos) {

        Reading at(long nowNanos) {
            return new Reading(this.statistics, this.error, Duration.ofNanos(Math.max(0, nowNanos - this.startNanos)));
        }
    }

    /**
     * One reading.
     *
     * @param statistics the figures, or {@code null} when the read failed
     * @param error why the read failed, or {@code null}
     * @param age how long ago the read began
     */
    record Reading(
            @Nullable OutboxStatistics statistics, @Nullable RuntimeException error, Duration age) {

        /**
         * The relay's lag now, at most: the lag read plus the reading's age, as the oldest row may still wait; zero
         * when no row waited; {@code null} when the read failed.
         */
        @Nullable
        Duration lag() {
            if (this.statistics == null) {
                return null;
            }
            return this.statistics.oldestCreatedAt() == null
                    ? Duration.ZERO
                    : this.statistics.lag().plus(this.age);
        }
    }
}
