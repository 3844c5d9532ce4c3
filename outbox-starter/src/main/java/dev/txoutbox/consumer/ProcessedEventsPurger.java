package dev.txoutbox.consumer;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.store.ProcessedEvents;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/** Deletes processed event ids older than the retention, every purge interval, in bounded chunks. */
final class ProcessedEventsPurger implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ProcessedEventsPurger.class);

    private static final int CHUNK = 10_000;

    private final ProcessedEvents processedEvents;

    private final Duration retention;

    private final Duration interval;

    private @Nullable ScheduledExecutorService executor;

    ProcessedEventsPurger(ProcessedEvents processedEvents, Duration retention, Duration interval) {
        this.processedEvents = processedEvents;
        this.retention = retention;
        this.interval = interval;
    }

    /** Deletes the expired ids now; returns how many. */
    int purge() {
        int total = 0;
        int deleted;
        do {
            deleted = this.processedEvents.purgeOlderThan(this.retention, CHUNK);
            total += deleted;
        } while (deleted == CHUNK);
        log.debug("Purged {} processed event ids older than {}", total, this.retention);
        return total;
    }

    private void purgeAndSurvive() {
        try {
            purge();
        } catch (RuntimeException ex) {
            log.warn("Purging processed event ids failed, trying again in {}: {}", this.interval, ex.toString());
        }
    }

    @Override
    public synchronized void start() {
        if (this.executor == null) {
            this.executor = DaemonThreads.singleThreadScheduledExecutor("outbox-processed-purger");
            long millis = this.interval.toMillis();
            this.executor.scheduleWithFixedDelay(this::purgeAndSurvive, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public synchronized void stop() {
        if (this.executor != null) {
            this.executor.shutdownNow();
            this.executor = null;
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return this.executor != null;
    }
}
