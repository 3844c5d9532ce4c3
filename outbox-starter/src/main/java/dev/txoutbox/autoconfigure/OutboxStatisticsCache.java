package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The outbox's figures (waiting rows, lag, dead letters, parked keys), read from the database at most once per
 * refresh interval, however often gauges and the health indicator ask.
 */
final class OutboxStatisticsCache {

    private final OutboxStore store;

    private final long refreshNanos;

    private @Nullable OutboxStatistics current;

    private long readAtNanos;

    OutboxStatisticsCache(OutboxStore store, Duration refreshInterval) {
        this.store = store;
        this.refreshNanos = refreshInterval.toNanos();
    }

    synchronized OutboxStatistics get() {
        long now = System.nanoTime();
        if (this.current == null || now - this.readAtNanos >= this.refreshNanos) {
            this.current = this.store.statistics();
            this.readAtNanos = now;
        }
        return this.current;
    }
}
