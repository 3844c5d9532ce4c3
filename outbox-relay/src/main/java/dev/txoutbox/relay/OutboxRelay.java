package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishes the rows of the outbox table and deletes each one once the broker acknowledged it.
 *
 * <p>One cycle, in one READ COMMITTED database transaction: claim a batch in id order with {@code FOR UPDATE SKIP
 * LOCKED}, leaving out rows whose topic and key have an earlier row elsewhere; send the records in waves, one record
 * of each topic and key per wave (see {@link Waves}); wait for the acknowledgements up to the send timeout; delete
 * the acknowledged rows in one statement; record the failures with their retry delay, in a savepoint so that a
 * failure there cannot undo the deletes; commit. When the transaction fails after records were acknowledged, their
 * rows are deleted in a short transaction of their own, so that the next cycle does not send them again. A record
 * sent but not acknowledged in time, or whose send failed in a way after which the publisher says it
 * {@linkplain RecordPublisher#mayStillBeWritten may still be written}, may be written for up to the publisher's
 * {@link RecordPublisher#maxDeliveryTime()}: its row waits at least that long before it can be claimed again, so
 * that no copy of it lands after a later record of its key. A full batch is followed by the next cycle at once;
 * otherwise the relay waits for {@link #wakeUp()} or the poll interval. Several relays, in one process or many, can
 * work on one table: the row locks keep them apart.
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
 * at most once per {@link RelaySettings#vacuumInterval()}: the claim reads the primary key from its start, where
 * the index entries of deleted rows stay until a vacuum removes them, and autovacuum looks at a table at most once
 * per {@code autovacuum_naptime} (a minute by default), in which a relay deletes millions of rows.
 */
public final class OutboxRelay implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** How long {@link #stop()} waits, beyond the shutdown timeout, for cycles to commit what they did. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);

    /** The bound on the transaction that deletes acknowledged rows after their cycle's transaction failed. */
    private static final int CLEANUP_TIMEOUT_SECONDS = 10;

    /** The longest wait for another cycle: one that holds a key this cycle left alone, or a cycle slot. */
    private static final long OTHER_CYCLE_WAIT_MILLIS = 50;

    /** How many rows a relay deletes before it vacuums the table, as the outbox table's autovacuum threshold. */
    public static final int VACUUM_AFTER_DELETED_ROWS = 10_000;

    private static final AtomicInteger instances = new AtomicInteger();

    /** The lifecycle phase: below the web server's graceful-shutdown phase ({@code DEFAULT_PHASE - 1024}). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final CycleStore store;

    private final RecordPublisher publisher;

    private final RelaySettings settings;

    private final FailureRecorder failures;

    private final TableVacuum vacuum;

    private final TransactionTemplate transactions;

    private final TransactionTemplate cleanup;

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

    /** Whether an interrupt of a relay thread was logged: it is, once per relay. */
    private volatile boolean interruptLogged;

    /** Set by {@link #stop()}: cycles in progress send nothing more and wait until the shutdown deadline at most. */
    private volatile boolean stopRequested;

    private volatile long shutdownDeadlineNanos;

    /** Changes at every start, so that a thread that outlived a stop never takes part in the next run. */
    private volatile Object generation = new Object();

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
        this.listeners = List.copyOf(listeners);
        this.store = new CycleStore(Objects.requireNonNull(store, "store"));
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.name = "outbox-relay-" + instances.incrementAndGet();
        this.failures = new FailureRecorder(this.store, settings, this.name);
        this.vacuum = new TableVacuum(this.store, settings.vacuumInterval(), this.name);
        DataSourceTransactionManager transactionManager = new DataSourceTransactionManager(store.dataSource());
        this.transactions = new TransactionTemplate(transactionManager);
        // Pinned, whatever the database's default: under REPEATABLE READ, a claim that meets a row another cycle
        // changed since the claim's snapshot fails instead of skipping or reading it afresh.
        this.transactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
        // The transaction spans the claim, the wait for acknowledgements and the delete; statements get the rest.
        this.transactionTimeout = settings.sendTimeout().plusSeconds(30);
        this.transactions.setTimeout((int) this.transactionTimeout.toSeconds());
        this.cleanup = new TransactionTemplate(transactionManager);
        this.cleanup.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
        this.cleanup.setTimeout(CLEANUP_TIMEOUT_SECONDS);
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
        return relayOnce(this.generation);
    }

    /** One cycle of the relay's run started as {@code generation}: it stops sending once another run started. */
    private CycleResult relayOnce(Object generation) {
        Cycle cycle = new Cycle(System.nanoTime(), generation);
        CycleResult result;
        try {
            result = Objects.requireNonNull(this.transactions.execute(status -> publishBatch(cycle, status)));
        } catch (RuntimeException | Error ex) {
            // The rollback undid the delete of the rows whose records the broker acknowledged (a session killed by
            // an idle-in-transaction timeout between the sends and the commit, say): without another delete, every
            // later cycle would send them again. It undid the hold on the rows whose records are still in flight
            // too, which would let another cycle publish their keys' next records before these land.
            settleAfterFailure(cycle, ex);
            notifyListeners(listener -> listener.cycleFailed(ex));
            throw ex;
        } finally {
            this.activities.remove(Thread.currentThread());
        }
        // Listeners hear of publications and dead letters only once the rows' fate is committed.
        cycle.notifyPublished();
        cycle.afterCommit.forEach(Runnable::run);
        Error publisherError = cycle.publisherError;
        if (publisherError != null) {
            // The cycle committed what it did, the failed send included, but it stopped sending at the error: it
            // failed, and the relay thread backs off as after any failed cycle.
            notifyListeners(listener -> listener.cycleFailed(publisherError));
            throw publisherError;
        }
        CycleResult completed = result;
        notifyListeners(listener -> listener.cycleCompleted(completed));
        return result;
    }

    private void notifyListeners(Consumer<OutboxRelayListener> call) {
        for (OutboxRelayListener listener : this.listeners) {
            try {
                call.accept(listener);
            } catch (Throwable ex) {
                // Once per listener: a broken listener must not flood the log with a line per record, and must not
                // fail the cycle (its rows' fate is decided) nor stop the relay.
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

    /** What one cycle did so far, kept outside its transaction for when that fails. */
    private final class Cycle {

        final long startNanos;

        final List<OutboxRecord> acknowledged = new ArrayList<>();

        final List<Instant> acknowledgedAt = new ArrayList<>();

        final List<Runnable> afterCommit = new ArrayList<>();

        /** The holds on the rows of records sent and still in flight when the cycle stopped waiting. */
        final List<CycleStore.Failure> inFlight = new ArrayList<>();

        /**
         * The topics whose send failed at once as unavailable (a topic the broker does not know, for which the
         * producer blocks until {@code max.block.ms} on every send), with that failure: the cycle sends them nothing
         * more, so that they do not use up its time, and records their remaining records as failed with it.
         */
        final Map<String, Throwable> unavailableTopics = new HashMap<>();

        /** Whether the relay was asked to stop since this cycle's run started, or started another run since. */
        boolean stopping() {
            return OutboxRelay.this.stopRequested || OutboxRelay.this.generation != this.generation;
        }

        /** The first {@link Error} the publisher threw, after which the cycle sent nothing more. */
        @Nullable
        Error publisherError;

        /**
         * The run of the relay this cycle belongs to. A thread that outlived a stop whose wait for it ran out may
         * still be in its cycle when the relay starts again: the start clears the stop request, and the cycle must
         * not take that for leave to go on sending.
         */
        final Object generation;

        Cycle(long startNanos, Object generation) {
            this.startNanos = startNanos;
            this.generation = generation;
        }

        void acknowledged(OutboxRecord record) {
            this.acknowledged.add(record);
            this.acknowledgedAt.add(Instant.now());
        }

        List<Long> acknowledgedIds() {
            return this.acknowledged.stream().map(OutboxRecord::id).toList();
        }

        void notifyPublished() {
            for (int i = 0; i < this.acknowledged.size(); i++) {
                OutboxRecord record = this.acknowledged.get(i);
                Instant at = this.acknowledgedAt.get(i);
                notifyListeners(listener -> listener.published(record, at));
            }
        }
    }

    private void settleAfterFailure(Cycle cycle, Throwable failure) {
        List<Long> ids = cycle.acknowledgedIds();
        if (ids.isEmpty() && cycle.inFlight.isEmpty()) {
            return;
        }
        // A short transaction of its own, on another connection: the pool may hand out a connection broken by the
        // same fault, so one more try on the next. Rows another relay has claimed since are left to it.
        for (int attempt = 1; ; attempt++) {
            try {
                int[] settled = Objects.requireNonNull(this.cleanup.execute(status ->
                        new int[] {this.store.deleteUnlocked(ids), this.store.recordFailuresUnlocked(cycle.inFlight)}));
                log.warn(
                        "Outbox relay {}: the cycle's transaction failed after the broker had acknowledged {} records"
                                + " ({}); deleted {} of their rows in a transaction of their own, so that they are"
                                + " not sent again, and held back {} of {} rows whose records were still in flight",
                        this.name,
                        ids.size(),
                        FailureRecorder.describe(failure),
                        settled[0],
                        settled[1],
                        cycle.inFlight.size());
                cycle.notifyPublished();
                return;
            } catch (RuntimeException ex) {
                if (attempt == 2) {
                    log.warn(
                            "Outbox relay {}: the cycle's transaction failed after the broker had acknowledged {}"
                                    + " records ({}), and their rows could not be settled either ({}): they will be"
                                    + " published again, with the same event ids",
                            this.name,
                            ids.size(),
                            FailureRecorder.describe(failure),
                            FailureRecorder.describe(ex));
                    return;
                }
            }
        }
    }

    private CycleResult publishBatch(Cycle cycle, TransactionStatus status) {
        activity("claiming rows");
        CycleStore.Claim claim = this.store.claim(
                this.settings.batchSize(),
                this.settings.maxBatchBytes(),
                this.settings.tableConcurrency(),
                this.transactionTimeout);
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
            CycleResult result = publishClaimed(claim, cycle, status);
            observation.lowCardinalityKeyValue(
                    "outbox.outcome", result.failed() + result.deadLettered() == 0 ? "published" : "failures");
            observation.highCardinalityKeyValue("outbox.records", String.valueOf(records.size()));
            return result;
        } catch (RuntimeException | Error ex) {
            observation.lowCardinalityKeyValue("outbox.outcome", "error");
            observation.error(ex);
            throw ex;
        } finally {
            observation.stop();
        }
    }

    private CycleResult publishClaimed(CycleStore.Claim claim, Cycle cycle, TransactionStatus status) {
        List<OutboxRecord> records = claim.records();
        long deadline = System.nanoTime() + this.settings.sendTimeout().toNanos();
        List<FailureRecorder.Decision> failures = new ArrayList<>();
        // Records go out in waves (see Waves): keys that failed stop for this batch, their later rows stay untouched
        // and are claimed again after the failed one. Records that the send timeout or a stop left unsent stay
        // untouched too: an attempt counts only when a record was sent.
        Set<Waves.TopicKey> stoppedKeys = new HashSet<>();
        List<OutboxRecord> remaining = records;
        while (!remaining.isEmpty()
                && !cycle.stopping()
                && cycle.publisherError == null
                && System.nanoTime() - deadline < 0) {
            Waves.Wave wave = Waves.next(remaining, stoppedKeys);
            List<Send> sends = new ArrayList<>(wave.records().size());
            for (OutboxRecord record : wave.records()) {
                sends.add(startSend(record, deadline, cycle));
            }
            activity("waiting for the acknowledgements of " + sends.size() + " records");
            for (Send send : sends) {
                Send.Outcome outcome = send.awaitAcknowledgement(() -> waitDeadline(deadline, cycle));
                if (outcome.acknowledged()) {
                    cycle.acknowledged(send.record());
                    continue;
                }
                Waves.TopicKey key = Waves.TopicKey.of(send.record());
                if (key != null) {
                    stoppedKeys.add(key);
                }
                if (outcome.inFlight()) {
                    FailureRecorder.Decision hold = inFlight(send, cycle);
                    failures.add(hold);
                    cycle.inFlight.add(
                            new CycleStore.Failure(hold.record().id(), hold.retryDelayMillis(), hold.text()));
                } else if (outcome.error() != null) {
                    Throwable error = outcome.error();
                    if (send.handedOver() && mayStillBeWritten(send.record(), error)) {
                        // The publisher gave up on it, but the broker may still write it: held back as in flight.
                        FailureRecorder.Decision hold = hold(send, error, cycle);
                        failures.add(hold);
                        cycle.inFlight.add(
                                new CycleStore.Failure(hold.record().id(), hold.retryDelayMillis(), hold.text()));
                    } else {
                        failures.add(failure(send.record(), error, 0));
                    }
                }
            }
            remaining = wave.later();
        }
        activity("recording the outcome of " + records.size() + " records");
        List<Long> published = cycle.acknowledgedIds();
        // The deletes first, and the failures in a savepoint after them: a failure in the bookkeeping of failures
        // must not undo the deletes, or every later cycle would send the acknowledged records again.
        this.store.delete(published);
        FailureRecorder.Recorded recorded = this.failures.record(status, failures, published.size());
        for (FailureRecorder.Decision failure : failures) {
            cycle.afterCommit.add(() -> notifyListeners(
                    listener -> listener.sendFailed(failure.record(), failure.error(), failure.kind())));
        }
        for (FailureRecorder.Decision deadLetter : recorded.deadLettered()) {
            cycle.afterCommit.add(
                    () -> notifyListeners(listener -> listener.deadLettered(deadLetter.record(), deadLetter.text())));
        }
        RuntimeException notRecorded = recorded.notRecorded();
        if (notRecorded != null) {
            cycle.afterCommit.add(() -> notifyListeners(listener -> listener.failuresNotRecorded(notRecorded)));
        }
        log.debug(
                "Outbox relay {}: claimed {}, published {}, retrying {}, dead-lettered {}",
                this.name,
                claim.locked(),
                published.size(),
                recorded.retried().size(),
                recorded.deadLettered().size());
        return new CycleResult(
                claim.locked(),
                published.size(),
                failures.size() - recorded.deadLettered().size(),
                recorded.deadLettered().size(),
                claim.locked() - records.size());
    }

    /**
     * A record sent but not acknowledged when the cycle stopped waiting: the publisher may still write it for up to
     * its {@link RecordPublisher#maxDeliveryTime()} after the send. Its row must not be claimed again before then, or
     * another cycle could publish the key's next record (a tombstone, say) before this copy lands.
     */
    private FailureRecorder.Decision inFlight(Send send, Cycle cycle) {
        String why = cycle.stopping()
                ? "not acknowledged before the relay stopped (outbox.relay.shutdown-timeout="
                        + this.settings.shutdownTimeout() + ")"
                : "not acknowledged within the send timeout (outbox.relay.send-timeout=" + this.settings.sendTimeout()
                        + ")";
        return hold(send, new SendTimeoutException(why), cycle);
    }

    /**
     * The failure of a record that the publisher may still write: its row waits until {@link #maxDeliveryTime()} has
     * passed since the send.
     */
    private FailureRecorder.Decision hold(Send send, Throwable error, Cycle cycle) {
        // The delay counts from the transaction's start in the database, which is after the cycle's start here.
        long until = send.sentAtNanos() + maxDeliveryTime().toNanos();
        long minDelayMillis = Math.max(0, (until - cycle.startNanos + 999_999) / 1_000_000);
        return failure(send.record(), error, minDelayMillis);
    }

    private boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
        try {
            return this.publisher.mayStillBeWritten(record, error);
        } catch (Throwable ex) {
            // Any Throwable, as for maxDeliveryTime(); unanswered, the record may still be written.
            log.debug(
                    "Outbox relay {}: could not ask the publisher whether {} may still be written",
                    this.name,
                    record,
                    ex);
            return true;
        }
    }

    private Duration maxDeliveryTime() {
        try {
            Duration time = this.publisher.maxDeliveryTime();
            return time == null || time.isNegative() ? Duration.ZERO : time;
        } catch (Throwable ex) {
            // Any Throwable, an Error included: thrown out of the cycle, it would leave the records sent so far
            // unaccounted for, their rows neither deleted nor held back.
            log.debug("Outbox relay {}: could not ask the publisher for its delivery time", this.name, ex);
            return Duration.ZERO;
        }
    }

    private FailureRecorder.Decision failure(OutboxRecord record, Throwable error, long minDelayMillis) {
        log.debug("Outbox relay {}: send failed for {}", this.name, record, error);
        // The relay's own deadline says the broker did not answer in time; the publisher need not be asked.
        FailureKind kind = error instanceof SendTimeoutException ? FailureKind.UNAVAILABLE : classify(record, error);
        return this.failures.decide(record, error, kind, minDelayMillis);
    }

    private Send startSend(OutboxRecord record, long deadline, Cycle cycle) {
        // A send may block (a producer waiting for metadata), so the deadline may pass in the middle of a wave.
        if (cycle.stopping() || cycle.publisherError != null || System.nanoTime() - deadline >= 0) {
            return Send.notSent(record);
        }
        Throwable unavailable = cycle.unavailableTopics.get(record.topic());
        if (unavailable != null) {
            return Send.refused(record, unavailable);
        }
        long sentAt = System.nanoTime();
        try {
            return stopTopicIfUnavailable(new Send(record, this.publisher.publish(record), sentAt), cycle);
        } catch (RuntimeException ex) {
            return stopTopicIfUnavailable(new Send(record, CompletableFuture.failedFuture(ex), sentAt), cycle);
        } catch (Error err) {
            // Such as an AssertionError or a NoClassDefFoundError from a publisher's bug. Failing the whole cycle
            // would roll back the sends already in flight and leave a row that always does this at the head of
            // every batch; recorded as this record's failed send instead, it becomes a dead letter after the
            // maximum attempts like any other, and the cycle fails once it committed what it did.
            cycle.publisherError = err;
            return new Send(record, CompletableFuture.failedFuture(err), sentAt);
        }
    }

    /**
     * A send that failed at once as unavailable stops its topic for the rest of the cycle: with a topic the broker does
     * not know, a Kafka producer blocks in {@code send()} until {@code max.block.ms} for every record, and a few such
     * records would use up the cycle's send timeout and leave the records of every other topic unsent, cycle after
     * cycle.
     */
    private Send stopTopicIfUnavailable(Send send, Cycle cycle) {
        Throwable error = send.failedAtOnce();
        if (error != null && classify(send.record(), error) == FailureKind.UNAVAILABLE) {
            log.debug(
                    "Outbox relay {}: topic '{}' is unavailable, the cycle sends it nothing more: {}",
                    this.name,
                    send.record().topic(),
                    FailureRecorder.describe(error));
            cycle.unavailableTopics.put(send.record().topic(), error);
        }
        return send;
    }

    /** How long a cycle waits for acknowledgements: the send deadline, or the shutdown deadline once stopping. */
    private long waitDeadline(long sendDeadline, Cycle cycle) {
        // After a stop and a new start, the stop's shutdown deadline still bounds a cycle of the run that stopped.
        return cycle.stopping() && this.shutdownDeadlineNanos - sendDeadline < 0
                ? this.shutdownDeadlineNanos
                : sendDeadline;
    }

    private FailureKind classify(OutboxRecord record, Throwable error) {
        try {
            return this.publisher.classify(record, error);
        } catch (Throwable ex) {
            // Any Throwable, as for maxDeliveryTime().
            log.debug("Outbox relay {}: could not classify {}", this.name, error, ex);
            return FailureKind.TRANSIENT;
        }
    }

    private void activity(String what) {
        this.activities.put(Thread.currentThread(), what);
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
        while (this.running && this.generation == generation) {
            if (Thread.interrupted()) {
                // Nobody should interrupt a relay thread, and a stop does not. Left set, the flag would end every
                // wait at once: the thread would loop without pause and take every record it sends for one still
                // in flight. Cleared, after a pause as after a failed cycle, in case something keeps interrupting.
                if (!this.running || this.generation != generation) {
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
                awaitWakeUp(errorDelay);
                errorDelay = Math.min(
                        errorDelay * 2,
                        Math.max(30_000, this.settings.pollInterval().toMillis()));
                continue;
            }
            try {
                CycleResult result = relayOnce(generation);
                errorDelay = this.settings.pollInterval().toMillis();
                int moved = result.published() + result.deadLettered();
                this.vacuum.afterDeleted(moved);
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
                awaitWakeUp(errorDelay);
                errorDelay = Math.min(
                        errorDelay * 2,
                        Math.max(30_000, this.settings.pollInterval().toMillis()));
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
            this.stopRequested = false;
            Object current = new Object();
            this.generation = current;
            this.vacuum.start();
            List<Thread> started = new ArrayList<>();
            for (int i = 0; i < this.settings.concurrency(); i++) {
                String threadName = this.settings.concurrency() == 1 ? this.name : this.name + "-" + (i + 1);
                // Daemons: a cycle that the database or the broker keeps waiting must not keep the JVM alive.
                Thread relayThread = new Thread(() -> run(current), threadName);
                relayThread.setDaemon(true);
                started.add(relayThread);
                relayThread.start();
            }
            this.threads = List.copyOf(started);
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
                this.settings.vacuumInterval(),
                this.settings.maxBatchBytes(),
                this.settings.shutdownTimeout());
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
        synchronized (this.monitor) {
            if (!this.running) {
                return;
            }
            shutdownDeadline =
                    System.nanoTime() + this.settings.shutdownTimeout().toNanos();
            this.shutdownDeadlineNanos = shutdownDeadline;
            this.stopRequested = true;
            this.running = false;
            this.monitor.notifyAll();
            stopping = this.threads;
            this.threads = List.of();
            this.vacuum.stop();
        }
        long joinDeadline = shutdownDeadline + STOP_GRACE.toNanos();
        for (Thread relayThread : stopping) {
            if (relayThread == Thread.currentThread()) {
                continue;
            }
            try {
                relayThread.join(Math.max(1, (joinDeadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<String> left = stopping.stream()
                .filter(thread -> thread != Thread.currentThread() && thread.isAlive())
                .map(thread -> thread.getName() + " (" + this.activities.getOrDefault(thread, "ending its cycle") + ")")
                .toList();
        if (left.isEmpty()) {
            log.info("Outbox relay {} stopped", this.name);
        } else {
            log.warn(
                    "Outbox relay {} stopped without its threads {}: they did not end within"
                            + " outbox.relay.shutdown-timeout={} and {} s more, as the database or the broker did not"
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
