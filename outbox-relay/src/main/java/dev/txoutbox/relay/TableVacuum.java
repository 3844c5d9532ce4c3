package dev.txoutbox.relay;

import dev.txoutbox.internal.DaemonThreads;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's own vacuums of the outbox table: once the relay has deleted
 * {@value OutboxRelay#VACUUM_AFTER_DELETED_ROWS} rows, in a thread of its own, at most once per vacuum interval, and
 * ten times less often (up to ten minutes apart) after each vacuum that PostgreSQL warned about. The claim reads the
 * primary key from its start, where the index entries of deleted rows stay until a vacuum removes them, and
 * autovacuum looks at a table at most once per {@code autovacuum_naptime} (a minute by default), in which a relay
 * deletes millions of rows.
 */
final class TableVacuum {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** The longest time between two vacuums after vacuums that warned. */
    private static final Duration MAX_VACUUM_BACKOFF = Duration.ofMinutes(10);

    private final CycleStore store;

    private final Duration interval;

    private final String relayName;

    /** Rows this relay deleted (published or dead-lettered) since its last vacuum of the table began. */
    private final AtomicLong deletedSinceVacuum = new AtomicLong();

    private final AtomicBoolean vacuuming = new AtomicBoolean();

    private volatile long lastVacuumNanos;

    /** The time between two vacuums: the vacuum interval, ten times longer after each vacuum that warned. */
    private volatile long vacuumIntervalNanos;

    private volatile @Nullable ExecutorService vacuumThread;

    TableVacuum(CycleStore store, Duration interval, String relayName) {
        this.store = store;
        this.interval = interval;
        this.relayName = relayName;
    }

    /** Starts the vacuum thread, unless the interval is zero or the table's database purges deleted rows itself. */
    void start() {
        if (this.interval.isZero() || !this.store.vacuums()) {
            return;
        }
        this.vacuumIntervalNanos = this.interval.toNanos();
        this.lastVacuumNanos = System.nanoTime() - this.vacuumIntervalNanos;
        this.vacuumThread = DaemonThreads.singleThreadExecutor(this.relayName + "-vacuum");
    }

    /** Stops the vacuum thread; a vacuum in progress ends on its own, the relay does not wait for it. */
    void stop() {
        ExecutorService executor = this.vacuumThread;
        this.vacuumThread = null;
        if (executor != null) {
            executor.shutdown();
        }
    }

    /** Counts rows the relay deleted, and vacuums the table when that is due. */
    void afterDeleted(int deleted) {
        ExecutorService executor = this.vacuumThread;
        if (executor == null
                || this.deletedSinceVacuum.addAndGet(deleted) < OutboxRelay.VACUUM_AFTER_DELETED_ROWS
                || System.nanoTime() - this.lastVacuumNanos < this.vacuumIntervalNanos
                || !this.vacuuming.compareAndSet(false, true)) {
            return;
        }
        // Rows deleted from now on count toward the next vacuum.
        this.deletedSinceVacuum.set(0);
        this.lastVacuumNanos = System.nanoTime();
        try {
            executor.execute(this::vacuum);
        } catch (RejectedExecutionException ex) {
            // Stopping.
            this.vacuuming.set(false);
        }
    }

    private void vacuum() {
        long start = System.nanoTime();
        try {
            VacuumOutcome outcome = this.store.vacuum();
            long millis = (System.nanoTime() - start) / 1_000_000;
            if (outcome.warnings().isEmpty()) {
                this.vacuumIntervalNanos = this.interval.toNanos();
                log.debug(
                        "Outbox relay {}: {} table '{}' in {} ms",
                        this.relayName,
                        outcome.busy() ? "another vacuum or lock holder had" : "vacuumed",
                        this.store.table(),
                        millis);
                return;
            }
            // Such as a user who may not vacuum the table: asking again at every interval would only repeat it.
            this.vacuumIntervalNanos = Math.max(
                    this.vacuumIntervalNanos, Math.min(this.vacuumIntervalNanos * 10, MAX_VACUUM_BACKOFF.toNanos()));
            log.warn(
                    "Outbox relay {}: PostgreSQL warned when the relay vacuumed table '{}': {}. When the database"
                            + " user may not vacuum the table, its dead rows wait for autovacuum and claims read"
                            + " past them: run the relay as the table's owner (or GRANT MAINTAIN ON the table, from"
                            + " PostgreSQL 17), or set RelaySettings.vacuumInterval to zero to leave the"
                            + " table to autovacuum. The next vacuum is in {} s at the earliest.",
                    this.relayName,
                    this.store.table(),
                    String.join("; ", outcome.warnings()),
                    this.vacuumIntervalNanos / 1_000_000_000);
        } catch (RuntimeException ex) {
            if (this.vacuumThread != null) {
                log.warn(
                        "Outbox relay {}: vacuuming table '{}' failed, trying again after {} more deleted rows: {}",
                        this.relayName,
                        this.store.table(),
                        OutboxRelay.VACUUM_AFTER_DELETED_ROWS,
                        ex.toString());
            }
        } finally {
            this.vacuuming.set(false);
        }
    }
}
