package dev.txoutbox.relay;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.store.OutboxStore;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Publishes the rows of the outbox table and deletes each one once the broker acknowledged it.
 *
 * <p>One cycle, in one READ COMMITTED database transaction: claim a batch in id order with {@code FOR UPDATE SKIP
 * LOCKED}, leaving out rows whose topic and key have an earlier row elsewhere; send the records in waves, one record
 * of each topic and key per wave, each wave once the one before was acknowledged, up to the send timeout; delete the
 * acknowledged rows; record the failures with their retry delay; commit. A record that the publisher
 * {@linkplain RecordPublisher#mayStillBeWritten may still write} after the cycle stopped waiting for it holds its row
 * back for the publisher's {@link RecordPublisher#maxDeliveryTime()}, so that no copy of it lands after a later
 * record of its key. A full batch is followed by the next cycle at once; otherwise the relay waits for
 * {@link #wakeUp()} or the poll interval. Several relays, in one process or many, can work on one table: the row
 * locks keep them apart.
 *
 * <p>A relay runs {@link RelaySettings#concurrency()} such cycles at the same time, in threads of its own, so that
 * one claims and sends while another waits for acknowledgements; the row locks keep them apart as they keep apart
 * relays in different processes. All relays on one table, in all processes, run at most
 * {@link RelaySettings#tableConcurrency()} cycles at the same time: a cycle first takes one of the table's cycle
 * slots in the database, and when all are taken it claims nothing and its thread waits as for rows held back. A
 * relay thread never dies of an exception nor of an {@link Error}: it logs it, reports the failed cycle to the
 * listeners and backs off. {@link #stop()} returns within about {@link RelaySettings#shutdownTimeout()}.
 *
 * <p>Once a relay has deleted {@value #VACUUM_AFTER_DELETED_ROWS} rows, it vacuums the table in a thread of its own,
 * at most once per {@link RelaySettings#vacuumInterval()}: autovacuum comes too seldom for a table that a relay
 * empties as fast as it is filled.
 */
public final class OutboxRelay implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** How long {@link #stop()} waits, beyond the shutdown timeout, for cycles to commit what they did. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /** The longest wait for another cycle: one that holds a key this cycle left alone, or a cycle slot. */
    private static final long OTHER_CYCLE_WAIT_MILLIS = 50;

    /** How many rows a relay deletes before it vacuums the table, as the outbox table's autovacuum threshold. */
    public static final int VACUUM_AFTER_DELETED_ROWS = 10_000;

    private static final AtomicInteger instances = new AtomicInteger();

    /** The lifecycle phase: below the web server's graceful-shutdown phase ({@code DEFAULT_PHASE - 1024}). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final OutboxStore store;

    private final RelaySettings settings;

    private final TableVacuum vacuum;

    private final CycleTransaction cycles;

    private final String name;

    /** What the relay does in log mode, or null in poll mode. */
    private final @Nullable LogTail tail;

    private final RunState run = new RunState();

    private final Waiter waiter = new Waiter();

    /** Guards the start and the stop. */
    private final Object lifecycle = new Object();

    private volatile boolean running;

    /** Whether an interrupt of a relay thread was logged: it is, once per relay. */
    private volatile boolean interruptLogged;

    /** What each thread in a cycle is doing, to name in the warning when a stop cannot wait for it. */
    private final Map<Thread, String> activities = new ConcurrentHashMap<>();

    private List<Thread> threads = List.of();

    /**
     * Creates a relay; {@link #start()} starts its threads.
     *
     * @param store the outbox table
     * @param publisher sends the records
     * @param settings batch size, intervals, timeouts and retry backoff
     */
    public OutboxRelay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        this(store, publisher, settings, List.of());
    }

    /**
     * Creates a relay that reports to listeners; {@link #start()} starts its threads.
     *
     * @param store the outbox table
     * @param publisher sends the records
     * @param settings batch size, intervals, timeouts and retry backoff
     * @param listeners hear what the relay does
     */
    public OutboxRelay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners) {
        this(store, publisher, settings, listeners, null);
    }

    /**
     * Creates a relay in log mode, which publishes the rows of the outbox table in the order their transactions
     * committed, as the database's log of commits gives them, rather than by polling the table; {@link #start()}
     * starts its thread. One relay reads a log at a time; the others, in this process or others, wait as standbys and
     * take over from the last position it confirmed. Everything else is as in poll mode: the record, the per-key
     * hold-back of a failed send, the retries, the dead letters, the deletes after acknowledgement. What the log's
     * fast path does not publish waits in the table, which the reader polls when it starts reading and then every
     * {@linkplain RelaySettings#pollInterval() poll interval}: a failed send whose retry is due, the rows behind a
     * requeued dead letter, rows written before the log began or while it was lost. Those go out in id order, as a
     * polling relay publishes them.
     *
     * @param store the outbox table
     * @param publisher sends the records
     * @param settings batch size, intervals, timeouts and retry backoff; the concurrency is one
     * @param listeners hear what the relay does
     * @param commitLog the log of the table's committed inserts
     */
    public static OutboxRelay tailing(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners,
            CommitLog commitLog) {
        return new OutboxRelay(store, publisher, settings, listeners, Objects.requireNonNull(commitLog, "commitLog"));
    }

    private OutboxRelay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners,
            @Nullable CommitLog commitLog) {
        this.store = Objects.requireNonNull(store, "store");
        Objects.requireNonNull(publisher, "publisher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.name = "outbox-relay-" + instances.incrementAndGet();
        CycleStore cycleStore = new CycleStore(store);
        this.vacuum = new TableVacuum(cycleStore, settings.vacuumInterval(), this.name);
        this.cycles = new CycleTransaction(
                cycleStore,
                publisher,
                settings,
                new RelayListeners(listeners, this.name),
                this.run,
                this.activities,
                this.name);
        this.tail = commitLog == null
                ? null
                : new LogTail(commitLog, this.cycles, settings, this.waiter, this.vacuum, this.name);
    }

    /**
     * Observes each batch the relay publishes as {@code outbox.relay.publish}, with the table and the outcome as
     * low-cardinality tags. Set it before {@link #start()}.
     */
    public void setObservationRegistry(ObservationRegistry observations) {
        this.cycles.setObservationRegistry(Objects.requireNonNull(observations, "observations"));
    }

    /** Asks the relay to look for rows now rather than at the end of the poll interval. Cheap, never blocks. */
    public void wakeUp() {
        this.waiter.wakeUp();
    }

    /**
     * Runs one cycle in the calling thread: claim, publish, delete, record failures, commit.
     *
     * @return what the cycle did
     */
    public CycleResult relayOnce() {
        return this.cycles.run(this.run.generation());
    }

    /**
     * A relay thread's loop. It ends only when the relay stops: whatever a cycle throws, also an {@link Error} (from
     * a publisher, say), is logged, has been reported to the listeners as a failed cycle, and is followed by a wait
     * that doubles with every failure in a row, up to 30 s or the poll interval. A relay that stopped for good would
     * lose nothing, but would publish nothing either until its application restarts, with nothing in the logs after
     * the first line to say why.
     */
    private void run(Object generation) {
        long errorDelay = this.settings.pollInterval().toMillis();
        while (this.running && this.run.generation() == generation) {
            if (Thread.interrupted()) {
                // Nobody should interrupt a relay thread, and a stop does not. Left set, the flag would end every
                // wait at once: the thread would loop without pause and take every record it sends for one still
                // in flight. Cleared, after a pause as after a failed cycle, in case something keeps interrupting.
                if (!this.running || this.run.generation() != generation) {
                    break;
                }
                if (!this.interruptLogged) {
                    this.interruptLogged = true;
                    log.warn(
                            "Outbox relay {}: thread {} was interrupted while the relay runs; it goes on after {} ms."
                                    + " Stop the relay with stop() rather than by interrupting its threads; further"
                                    + " interrupts are not logged",
                            this.name,
                            Thread.currentThread().getName(),
                            errorDelay);
                }
                this.waiter.await(errorDelay);
                errorDelay = longerErrorDelay(errorDelay);
                continue;
            }
            try {
                CycleResult result = this.cycles.run(generation);
                errorDelay = this.settings.pollInterval().toMillis();
                int moved = result.published() + result.deadLettered();
                this.vacuum.afterDeleted(moved);
                // This cycle's commit may have freed a key, and has freed a cycle slot, that another cycle of this
                // relay waits for. Only after a cycle that got somewhere: the wake-up is one flag for all the
                // relay's threads, and this thread may take it back itself when it waits next, so that waking
                // after every cycle would let an empty one follow another without end.
                if (moved > 0 && this.waiter.othersWaitForCycles()) {
                    this.waiter.wakeUp();
                }
                long delay = millisBeforeNextCycle(result, this.settings);
                if (delay > 0) {
                    this.waiter.await(delay, result.heldBack() > 0 || result.noFreeSlot());
                }
            } catch (Throwable ex) {
                if (ex instanceof Error) {
                    log.error(
                            "Outbox relay {}: cycle failed with an error, the relay goes on and tries again in {} ms:"
                                    + " {}",
                            this.name,
                            errorDelay,
                            FailureRecorder.describe(ex),
                            ex);
                } else {
                    log.warn(
                            "Outbox relay {}: cycle failed, trying again in {} ms: {}",
                            this.name,
                            errorDelay,
                            FailureRecorder.describe(ex),
                            ex);
                }
                this.waiter.await(errorDelay);
                errorDelay = longerErrorDelay(errorDelay);
            }
        }
    }

    /** The wait after another failed cycle in a row: twice the last, up to 30 s or the poll interval. */
    private long longerErrorDelay(long errorDelay) {
        return Math.min(
                errorDelay * 2, Math.max(30_000, this.settings.pollInterval().toMillis()));
    }

    /**
     * How long a relay thread waits for a wake-up after a cycle. Not at all after a full batch that got somewhere,
     * even when some of its rows were held back for per-key order: in a backlog of keys spread as by chance, most
     * batches hold back a few rows behind another cycle's batch, and waiting after each of them cost 60 % of a
     * drain's rate. At most 50 ms after any other batch that held rows back, since the cycle that holds their key
     * will be done soon, and after a cycle that found every cycle slot of the table taken, since one of those cycles
     * will be done soon too (another relay's cycle ends without waking this one). The poll interval otherwise, also
     * after a batch that the broker refused entirely.
     */
    static long millisBeforeNextCycle(CycleResult result, RelaySettings settings) {
        long poll = settings.pollInterval().toMillis();
        boolean moving = result.published() + result.deadLettered() > 0;
        if (moving && result.locked() >= settings.batchSize()) {
            return 0;
        }
        return result.heldBack() > 0 || result.noFreeSlot() ? Math.min(OTHER_CYCLE_WAIT_MILLIS, poll) : poll;
    }

    @Override
    public void start() {
        synchronized (this.lifecycle) {
            if (this.running) {
                return;
            }
            this.running = true;
            this.waiter.open();
            Object current = this.run.startRun();
            this.vacuum.start();
            List<Thread> started = new ArrayList<>();
            LogTail logTail = this.tail;
            if (logTail != null) {
                started.add(DaemonThreads.start(
                        this.name, () -> logTail.run(current, () -> this.running && this.run.generation() == current)));
            }
            for (int i = 0; logTail == null && i < this.settings.concurrency(); i++) {
                String threadName = this.settings.concurrency() == 1 ? this.name : this.name + "-" + (i + 1);
                started.add(DaemonThreads.start(threadName, () -> run(current)));
            }
            this.threads = List.copyOf(started);
        }
        if (this.tail != null) {
            log.info(
                    "Outbox relay {} started in log mode on table '{}', reading {}: batch size {}, poll interval of"
                            + " the table {}, send timeout {}, at most {} bytes per batch, shutdown timeout {}",
                    this.name,
                    this.store.table(),
                    this.tail.commitLog().describe(),
                    this.settings.batchSize(),
                    this.settings.pollInterval(),
                    this.settings.sendTimeout(),
                    this.settings.maxBatchBytes(),
                    this.settings.shutdownTimeout());
            return;
        }
        log.info(
                "Outbox relay {} started on table '{}': batch size {}, poll interval {}, send timeout {},"
                        + " concurrency {} (at most {} cycles on the table in all), vacuum interval {}, at most {}"
                        + " bytes per batch, shutdown timeout {}",
                this.name,
                this.store.table(),
                this.settings.batchSize(),
                this.settings.pollInterval(),
                this.settings.sendTimeout(),
                this.settings.concurrency(),
                this.settings.tableConcurrency(),
                this.store.dialect().vacuum(this.store.table()) != null
                        ? this.settings.vacuumInterval()
                        : "none (the database purges deleted rows itself)",
                this.settings.maxBatchBytes(),
                this.settings.shutdownTimeout());
        if (this.settings.concurrency() > this.settings.tableConcurrency()) {
            log.warn(
                    "Outbox relay {}: RelaySettings.concurrency={} is more than RelaySettings.tableConcurrency={},"
                            + " the cycles that all relays on table '{}' may run at once, so {} of its threads can"
                            + " only wait. Lower the concurrency, or raise the table concurrency.",
                    this.name,
                    this.settings.concurrency(),
                    this.settings.tableConcurrency(),
                    this.store.table(),
                    this.settings.concurrency() - this.settings.tableConcurrency());
        }
    }

    /**
     * Stops the relay within about its {@link RelaySettings#shutdownTimeout()}, so that it fits a container's grace
     * period: no cycle starts from now on, cycles in progress send no further records and wait for the
     * acknowledgements of those in flight until the shutdown timeout has passed since this call, then record what is
     * still in flight (its rows wait until the publisher can no longer write it) and commit. Returns once they did, or
     * a few seconds after the shutdown timeout whatever the database or the broker do, with a warning that names the
     * threads it left; they are daemons, and their rows are published by the next instance.
     */
    @Override
    public void stop() {
        List<Thread> stopping;
        long shutdownDeadline;
        synchronized (this.lifecycle) {
            if (!this.running) {
                return;
            }
            shutdownDeadline =
                    System.nanoTime() + this.settings.shutdownTimeout().toNanos();
            this.run.requestStop(shutdownDeadline);
            this.running = false;
            this.waiter.close();
            stopping = this.threads;
            this.threads = List.of();
            this.vacuum.stop();
        }
        List<String> left = DaemonThreads.awaitEnd(stopping, shutdownDeadline + STOP_GRACE.toNanos()).stream()
                .map(thread -> thread.getName() + " (" + this.activities.getOrDefault(thread, "ending its cycle") + ")")
                .toList();
        if (left.isEmpty()) {
            log.info("Outbox relay {} stopped", this.name);
        } else {
            log.warn(
                    "Outbox relay {} stopped without its threads {}: they did not end within"
                            + " RelaySettings.shutdownTimeout={} and {} s more, as the database or the broker did not"
                            + " answer. Their transactions end when the database notices; rows not deleted are"
                            + " published by the next instance, with the same event ids.",
                    this.name,
                    left,
                    this.settings.shutdownTimeout(),
                    STOP_GRACE.toSeconds());
        }
    }

    @Override
    public boolean isRunning() {
        return this.running;
    }

    /**
     * Starts before and stops after the web server (whose graceful shutdown drains the requests in flight), so that
     * the events of the last requests are published before the application stops.
     */
    @Override
    public int getPhase() {
        return PHASE;
    }

    /** The log a relay in log mode reads, or null for a relay that polls the table. */
    public @Nullable CommitLog commitLog() {
        return this.tail != null ? this.tail.commitLog() : null;
    }

    /** What a relay in log mode does now, or null for a relay that polls the table. */
    public @Nullable LogRole logRole() {
        return this.tail != null ? this.tail.role() : null;
    }

    /** The relay's name, also the name (or the prefix of the names) of its threads. */
    public String name() {
        return this.name;
    }

    /**
     * What one cycle did.
     *
     * @param locked how many rows the claim locked, including those held back for per-key order
     * @param published how many records the broker acknowledged (and whose rows were deleted)
     * @param failed how many sends failed and were scheduled for a retry
     * @param deadLettered how many records were moved to the dead letters
     * @param heldBack how many claimed rows were left alone because an earlier row of their key was held elsewhere
     * @param noFreeSlot whether the cycle claimed nothing because other cycles held every cycle slot of the table
     */
    public record CycleResult(
            int locked, int published, int failed, int deadLettered, int heldBack, boolean noFreeSlot) {

        /** A cycle that found every cycle slot of the table taken. */
        public static final CycleResult NO_FREE_SLOT = new CycleResult(0, 0, 0, 0, 0, true);

        /** A result of a cycle that took a slot. */
        public CycleResult(int locked, int published, int failed, int deadLettered, int heldBack) {
            this(locked, published, failed, deadLettered, heldBack, false);
        }

        /** A result of a cycle that took a slot and held no rows back. */
        public CycleResult(int locked, int published, int failed, int deadLettered) {
            this(locked, published, failed, deadLettered, 0);
        }
    }

    /** What a relay in log mode does now. */
    public enum LogRole {

        /** Opening the log, or waiting to try again after it could not. */
        STARTING,

        /** Reading the log: this relay publishes. */
        READING,

        /** Waiting while another relay reads the log. */
        STANDBY,

        /** Starting the log anew after it was lost; the table, polled, holds what was not published. */
        RESTARTING,

        /** Stopped. */
        STOPPED
    }
}
