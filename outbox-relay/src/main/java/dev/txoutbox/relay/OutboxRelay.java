package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishes the rows of the outbox table and deletes each one once the broker acknowledged it.
 *
 * <p>One cycle, in one database transaction: claim a batch in id order with {@code FOR UPDATE SKIP LOCKED}, leaving
 * out rows whose key has an earlier row elsewhere; send every record; wait for the acknowledgements up to the send
 * timeout; delete the acknowledged rows in one statement; record the failures with their retry delay; commit. A
 * full batch is followed by the next cycle at once; otherwise the relay waits for {@link #wakeUp()} or the poll
 * interval. Several relays, in one process or many, can work on one table: the row locks keep them apart.
 *
 * <p>A relay runs {@link RelaySettings#concurrency()} such cycles at the same time, in threads of its own, so that
 * one claims and sends while another waits for acknowledgements; the row locks keep them apart as they keep apart
 * relays in different processes. All relays on one table, in all processes, run at most
 * {@link RelaySettings#tableConcurrency()} cycles at the same time: a cycle first takes one of the table's cycle
 * slots in the database, and when all are taken it claims nothing and its thread waits as for rows held back. A
 * relay thread never dies of an exception: it logs it and backs off.
 *
 * <p>Once a relay has deleted {@value #VACUUM_AFTER_DELETED_ROWS} rows, it vacuums the table in a thread of its own,
 * at most once per {@link RelaySettings#vacuumInterval()}: the claim reads the primary key from its start, where
 * the index entries of deleted rows stay until a vacuum removes them, and autovacuum looks at a table at most once
 * per {@code autovacuum_naptime} (a minute by default), in which a relay deletes millions of rows.
 */
public final class OutboxRelay implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private static final int MAX_ERROR_LENGTH = 2000;

    /** The longest wait for another cycle: one that holds a key this cycle left alone, or a cycle slot. */
    private static final long OTHER_CYCLE_WAIT_MILLIS = 50;

    /** How many rows a relay deletes before it vacuums the table, as the outbox table's autovacuum threshold. */
    public static final int VACUUM_AFTER_DELETED_ROWS = 10_000;

    /** The longest time between two vacuums after vacuums that warned. */
    private static final Duration MAX_VACUUM_BACKOFF = Duration.ofMinutes(10);

    private static final AtomicInteger instances = new AtomicInteger();

    /** The lifecycle phase: below the web server's graceful-shutdown phase ({@code DEFAULT_PHASE - 1024}). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final OutboxStore store;

    private final RecordPublisher publisher;

    private final RelaySettings settings;

    private final Backoff retryBackoff;

    private final TransactionTemplate transactions;

    private final String name;

    private final Duration transactionTimeout;

    private final List<OutboxRelayListener> listeners;

    private final Set<OutboxRelayListener> failedListeners = ConcurrentHashMap.newKeySet();

    private ObservationRegistry observations = ObservationRegistry.NOOP;

    private final Object monitor = new Object();

    private boolean wakeUpRequested;

    /**
     * Relay threads waiting for another cycle to end: their last claim held rows back behind an earlier row of their
     * key elsewhere, or found every cycle slot of the table taken.
     */
    private final AtomicInteger waitingForOtherCycles = new AtomicInteger();

    private volatile boolean running;

    /** Rows this relay deleted (published or dead-lettered) since its last vacuum of the table began. */
    private final AtomicLong deletedSinceVacuum = new AtomicLong();

    private final AtomicBoolean vacuuming = new AtomicBoolean();

    private volatile long lastVacuumNanos;

    /** The time between two vacuums: the vacuum interval, ten times longer after each vacuum that warned. */
    private volatile long vacuumIntervalNanos;

    private volatile @Nullable ExecutorService vacuumThread;

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
        this.listeners = List.copyOf(listeners);
        this.store = Objects.requireNonNull(store, "store");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.retryBackoff = settings.backoff();
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(store.dataSource()));
        // The transaction spans the claim, the wait for acknowledgements and the delete; statements get the rest.
        this.transactionTimeout = settings.sendTimeout().plusSeconds(30);
        this.transactions.setTimeout((int) this.transactionTimeout.toSeconds());
        this.name = "outbox-relay-" + instances.incrementAndGet();
    }

    /**
     * Observes each batch the relay publishes as {@code outbox.relay.publish}, with the table and the outcome as
     * low-cardinality tags. Set it before {@link #start()}.
     */
    public void setObservationRegistry(ObservationRegistry observations) {
        this.observations = Objects.requireNonNull(observations, "observations");
    }

    /** Asks the relay to look for rows now rather than at the end of the poll interval. Cheap, never blocks. */
    public void wakeUp() {
        synchronized (this.monitor) {
            this.wakeUpRequested = true;
            // One waiting cycle is enough to take what a commit wrote; the others keep waiting.
            this.monitor.notify();
        }
    }

    /**
     * Runs one cycle in the calling thread: claim, publish, delete, record failures, commit.
     *
     * @return what the cycle did
     */
    public CycleResult relayOnce() {
        List<Runnable> afterCommit = new ArrayList<>();
        CycleResult result;
        try {
            result = Objects.requireNonNull(this.transactions.execute(status -> publishBatch(afterCommit)));
        } catch (RuntimeException ex) {
            notifyListeners(listener -> listener.cycleFailed(ex));
            throw ex;
        }
        // Listeners hear of publications and dead letters only once the rows' fate is committed.
        afterCommit.forEach(Runnable::run);
        CycleResult completed = result;
        notifyListeners(listener -> listener.cycleCompleted(completed));
        return result;
    }

    private void notifyListeners(java.util.function.Consumer<OutboxRelayListener> call) {
        for (OutboxRelayListener listener : this.listeners) {
            try {
                call.accept(listener);
            } catch (RuntimeException ex) {
                // Once per listener: a broken listener must not flood the log with a line per record.
                if (this.failedListeners.add(listener)) {
                    log.warn(
                            "Outbox relay {}: listener {} failed, and its further failures are not logged: {}",
                            this.name,
                            listener,
                            ex.toString(),
                            ex);
                }
            }
        }
    }

    /** The relay gave up waiting for the broker's acknowledgement of a record it sent. */
    static final class SendTimeoutException extends TimeoutException {

        SendTimeoutException(String message) {
            super(message);
        }
    }

    private CycleResult publishBatch(List<Runnable> afterCommit) {
        OutboxStore.Claim claim = this.store.claim(this.settings.batchSize(), this.settings.tableConcurrency());
        if (claim.noFreeSlot()) {
            return CycleResult.NO_FREE_SLOT;
        }
        List<OutboxRecord> records = claim.records();
        if (records.isEmpty()) {
            return new CycleResult(claim.locked(), 0, 0, 0, claim.locked());
        }
        Observation observation = Observation.createNotStarted("outbox.relay.publish", this.observations)
                .contextualName("outbox publish")
                .lowCardinalityKeyValue("outbox.table", this.store.table().value())
                .start();
        try {
            CycleResult result = publishClaimed(claim, afterCommit);
            observation.lowCardinalityKeyValue(
                    "outbox.outcome", result.failed() + result.deadLettered() == 0 ? "published" : "failures");
            observation.highCardinalityKeyValue("outbox.records", String.valueOf(records.size()));
            return result;
        } catch (RuntimeException ex) {
            observation.lowCardinalityKeyValue("outbox.outcome", "error");
            observation.error(ex);
            throw ex;
        } finally {
            observation.stop();
        }
    }

    private CycleResult publishClaimed(OutboxStore.Claim claim, List<Runnable> afterCommit) {
        List<OutboxRecord> records = claim.records();
        long deadline = System.nanoTime() + this.settings.sendTimeout().toNanos();
        List<Long> published = new ArrayList<>(records.size());
        List<OutboxStore.Failure> retries = new ArrayList<>();
        List<OutboxStore.Failure> deadLetters = new ArrayList<>();
        // Records go out in waves: each wave holds at most one record of each key, and the next record of a key
        // is sent only once the broker acknowledged the one before. So no failure, wherever it happens, lets a
        // record overtake an earlier one of its key. Keys that failed stop for this batch; their later rows stay
        // untouched and are claimed again after the failed one. Records that the send timeout left unsent stay
        // untouched too: an attempt counts only when a record was sent.
        Set<String> stoppedKeys = new HashSet<>();
        List<OutboxRecord> remaining = records;
        while (!remaining.isEmpty()
                && System.nanoTime() - deadline < 0
                && !Thread.currentThread().isInterrupted()) {
            List<OutboxRecord> wave = new ArrayList<>();
            List<OutboxRecord> later = new ArrayList<>();
            Set<String> keysInWave = new HashSet<>();
            for (OutboxRecord record : remaining) {
                String key = record.key();
                if (key == null) {
                    wave.add(record);
                } else if (!stoppedKeys.contains(key)) {
                    (keysInWave.add(key) ? wave : later).add(record);
                }
            }
            List<@Nullable CompletableFuture<?>> sends = new ArrayList<>(wave.size());
            for (OutboxRecord record : wave) {
                sends.add(startSend(record, deadline));
            }
            for (int i = 0; i < wave.size(); i++) {
                OutboxRecord record = wave.get(i);
                CompletableFuture<?> send = sends.get(i);
                Outcome outcome = send != null ? awaitAcknowledgement(send, deadline) : Outcome.NOT_SENT;
                if (outcome.acknowledged()) {
                    published.add(record.id());
                    Instant acknowledgedAt = Instant.now();
                    afterCommit.add(() -> notifyListeners(listener -> listener.published(record, acknowledgedAt)));
                    continue;
                }
                if (record.key() != null) {
                    stoppedKeys.add(record.key());
                }
                if (outcome.error() != null) {
                    recordFailure(record, outcome.error(), retries, deadLetters, afterCommit);
                }
            }
            remaining = later;
        }
        this.store.delete(published);
        this.store.recordFailures(retries);
        this.store.deadLetter(deadLetters);
        logFailures(records.size(), retries, deadLetters);
        log.debug(
                "Outbox relay {}: claimed {}, published {}, retrying {}, dead-lettered {}",
                this.name,
                claim.locked(),
                published.size(),
                retries.size(),
                deadLetters.size());
        return new CycleResult(
                claim.locked(), published.size(), retries.size(), deadLetters.size(), claim.locked() - records.size());
    }

    private void logFailures(int batch, List<OutboxStore.Failure> retries, List<OutboxStore.Failure> deadLetters) {
        if (!retries.isEmpty()) {
            log.warn(
                    "Outbox relay {}: {} of {} records were not acknowledged and will be retried; first: row {}: {}",
                    this.name,
                    retries.size(),
                    batch,
                    retries.get(0).id(),
                    retries.get(0).error());
        }
        for (OutboxStore.Failure deadLetter : deadLetters) {
            log.error(
                    "Outbox relay {}: row {} moved to the dead letters, its key is held until an operator requeues"
                            + " or discards it: {}",
                    this.name,
                    deadLetter.id(),
                    deadLetter.error());
        }
    }

    private @Nullable CompletableFuture<?> startSend(OutboxRecord record, long deadline) {
        if (System.nanoTime() - deadline >= 0) {
            return null;
        }
        try {
            return this.publisher.publish(record);
        } catch (RuntimeException ex) {
            return CompletableFuture.failedFuture(ex);
        }
    }

    private static Outcome awaitAcknowledgement(CompletableFuture<?> send, long deadline) {
        try {
            send.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return Outcome.ACKNOWLEDGED;
        } catch (ExecutionException ex) {
            return Outcome.failed(ex.getCause() != null ? ex.getCause() : ex);
        } catch (TimeoutException ex) {
            return Outcome.failed(new SendTimeoutException("not acknowledged within the send timeout"));
        } catch (InterruptedException ex) {
            // The relay is being stopped: the outcome is unknown, so the row stays as it was and is sent again.
            Thread.currentThread().interrupt();
            return Outcome.NOT_SENT;
        }
    }

    /** What became of one send: acknowledged, failed with an error, or not sent (nor counted) at all. */
    private record Outcome(boolean acknowledged, @Nullable Throwable error) {

        static final Outcome ACKNOWLEDGED = new Outcome(true, null);

        static final Outcome NOT_SENT = new Outcome(false, null);

        static Outcome failed(Throwable error) {
            return new Outcome(false, error);
        }
    }

    private void recordFailure(
            OutboxRecord record,
            Throwable error,
            List<OutboxStore.Failure> retries,
            List<OutboxStore.Failure> deadLetters,
            List<Runnable> afterCommit) {
        int attempt = record.attempts() + 1;
        // The relay's own deadline says the broker did not answer in time; the publisher need not be asked.
        FailureKind kind = error instanceof SendTimeoutException ? FailureKind.UNAVAILABLE : classify(record, error);
        boolean permanent = kind == FailureKind.PERMANENT;
        // An unavailable destination is retried for as long as it lasts: attempts grow the backoff, but never make
        // a healthy event a dead letter.
        boolean givenUp = permanent || (kind == FailureKind.TRANSIENT && attempt >= this.settings.maxAttempts());
        String text = "event %s to topic '%s' (key %s, attempt %d%s): %s: %s"
                .formatted(
                        record.eventId(),
                        record.topic(),
                        record.key(),
                        attempt,
                        switch (kind) {
                            case PERMANENT -> ", cannot succeed";
                            case UNAVAILABLE -> ", destination unavailable, retried until it is back";
                            case TRANSIENT -> " of " + this.settings.maxAttempts();
                        },
                        error.getClass().getName(),
                        error.getMessage());
        if (text.length() > MAX_ERROR_LENGTH) {
            text = text.substring(0, MAX_ERROR_LENGTH);
        }
        log.debug("Outbox relay {}: send failed for {}", this.name, record, error);
        String reported = text;
        afterCommit.add(() -> notifyListeners(listener -> listener.sendFailed(record, error, kind)));
        if (givenUp) {
            deadLetters.add(new OutboxStore.Failure(record.id(), 0, text));
            afterCommit.add(() -> notifyListeners(listener -> listener.deadLettered(record, reported)));
        } else {
            retries.add(new OutboxStore.Failure(record.id(), this.retryBackoff.delayMillis(attempt), text));
        }
    }

    private FailureKind classify(OutboxRecord record, Throwable error) {
        try {
            return this.publisher.classify(record, error);
        } catch (RuntimeException ex) {
            log.debug("Outbox relay {}: could not classify {}", this.name, error, ex);
            return FailureKind.TRANSIENT;
        }
    }

    private void run() {
        long errorDelay = this.settings.pollInterval().toMillis();
        while (this.running) {
            try {
                CycleResult result = relayOnce();
                errorDelay = this.settings.pollInterval().toMillis();
                int moved = result.published() + result.deadLettered();
                vacuumIfDue(moved);
                // This cycle's commit may have freed a key, and has freed a cycle slot, that another cycle of this
                // relay waits for. Only after a cycle that got somewhere: the wake-up is one flag for all the
                // relay's threads, and this thread may take it back itself when it waits next, so that waking
                // after every cycle would let an empty one follow another without end.
                if (moved > 0 && this.waitingForOtherCycles.get() > 0) {
                    wakeUp();
                }
                long delay = millisBeforeNextCycle(result, this.settings);
                if (delay > 0) {
                    boolean waitsForOthers = result.heldBack() > 0 || result.noFreeSlot();
                    if (waitsForOthers) {
                        this.waitingForOtherCycles.incrementAndGet();
                    }
                    try {
                        awaitWakeUp(delay);
                    } finally {
                        if (waitsForOthers) {
                            this.waitingForOtherCycles.decrementAndGet();
                        }
                    }
                }
            } catch (RuntimeException ex) {
                log.warn(
                        "Outbox relay {}: cycle failed, trying again in {} ms: {}",
                        this.name,
                        errorDelay,
                        ex.toString(),
                        ex);
                awaitWakeUp(errorDelay);
                errorDelay = Math.min(
                        errorDelay * 2,
                        Math.max(30_000, this.settings.pollInterval().toMillis()));
            } catch (Error err) {
                log.error("Outbox relay {}: stopped by {}", this.name, err.toString(), err);
                this.running = false;
                throw err;
            }
        }
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

    private void vacuumIfDue(int deleted) {
        ExecutorService executor = this.vacuumThread;
        if (executor == null
                || this.deletedSinceVacuum.addAndGet(deleted) < VACUUM_AFTER_DELETED_ROWS
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
            OutboxStore.VacuumOutcome outcome = this.store.vacuum();
            long millis = (System.nanoTime() - start) / 1_000_000;
            if (outcome.warnings().isEmpty()) {
                this.vacuumIntervalNanos = this.settings.vacuumInterval().toNanos();
                log.debug(
                        "Outbox relay {}: {} table '{}' in {} ms",
                        this.name,
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
                            + " PostgreSQL 17), or set outbox.relay.vacuum-interval=0 to leave the table to"
                            + " autovacuum. The next vacuum is in {} s at the earliest.",
                    this.name,
                    this.store.table(),
                    String.join("; ", outcome.warnings()),
                    this.vacuumIntervalNanos / 1_000_000_000);
        } catch (RuntimeException ex) {
            if (this.running) {
                log.warn(
                        "Outbox relay {}: vacuuming table '{}' failed, trying again after {} more deleted rows: {}",
                        this.name,
                        this.store.table(),
                        VACUUM_AFTER_DELETED_ROWS,
                        ex.toString());
            }
        } finally {
            this.vacuuming.set(false);
        }
    }

    private void awaitWakeUp(long millis) {
        synchronized (this.monitor) {
            long until = System.currentTimeMillis() + millis;
            while (!this.wakeUpRequested && this.running) {
                long left = until - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                try {
                    this.monitor.wait(left);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            this.wakeUpRequested = false;
        }
    }

    @Override
    public void start() {
        synchronized (this.monitor) {
            if (this.running) {
                return;
            }
            this.running = true;
            if (!this.settings.vacuumInterval().isZero()) {
                this.vacuumIntervalNanos = this.settings.vacuumInterval().toNanos();
                this.lastVacuumNanos = System.nanoTime() - this.vacuumIntervalNanos;
                this.vacuumThread = Executors.newSingleThreadExecutor(task -> {
                    Thread vacuumer = new Thread(task, this.name + "-vacuum");
                    vacuumer.setDaemon(true);
                    return vacuumer;
                });
            }
            List<Thread> started = new ArrayList<>();
            for (int i = 0; i < this.settings.concurrency(); i++) {
                String threadName = this.settings.concurrency() == 1 ? this.name : this.name + "-" + (i + 1);
                Thread relayThread = new Thread(this::run, threadName);
                relayThread.setDaemon(true);
                started.add(relayThread);
                relayThread.start();
            }
            this.threads = List.copyOf(started);
        }
        log.info(
                "Outbox relay {} started on table '{}': batch size {}, poll interval {}, send timeout {},"
                        + " concurrency {} (at most {} cycles on the table in all), vacuum interval {}",
                this.name,
                this.store.table(),
                this.settings.batchSize(),
                this.settings.pollInterval(),
                this.settings.sendTimeout(),
                this.settings.concurrency(),
                this.settings.tableConcurrency(),
                this.settings.vacuumInterval());
        if (this.settings.concurrency() > this.settings.tableConcurrency()) {
            log.warn(
                    "Outbox relay {}: outbox.relay.concurrency={} is more than outbox.relay.table-concurrency={}, the"
                            + " cycles that all relays on table '{}' may run at once, so {} of its threads can only"
                            + " wait. Lower outbox.relay.concurrency, or raise outbox.relay.table-concurrency.",
                    this.name,
                    this.settings.concurrency(),
                    this.settings.tableConcurrency(),
                    this.store.table(),
                    this.settings.concurrency() - this.settings.tableConcurrency());
        }
    }

    @Override
    public void stop() {
        List<Thread> stopping;
        synchronized (this.monitor) {
            if (!this.running) {
                return;
            }
            this.running = false;
            this.monitor.notifyAll();
            stopping = this.threads;
            this.threads = List.of();
            if (this.vacuumThread != null) {
                // A vacuum in progress ends on its own; the relay does not wait for it.
                this.vacuumThread.shutdown();
                this.vacuumThread = null;
            }
        }
        long deadline =
                System.nanoTime() + this.transactionTimeout.plusSeconds(5).toNanos();
        for (Thread relayThread : stopping) {
            if (relayThread == Thread.currentThread()) {
                continue;
            }
            try {
                // A cycle in progress finishes: its acknowledged rows are deleted before the relay stops.
                relayThread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        }
        log.info("Outbox relay {} stopped", this.name);
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
}
