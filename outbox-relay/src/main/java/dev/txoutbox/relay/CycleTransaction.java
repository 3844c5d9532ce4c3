package dev.txoutbox.relay;

import dev.txoutbox.relay.FailureDecisions.Decision;
import dev.txoutbox.relay.OutboxRelay.CycleResult;
import dev.txoutbox.store.OutboxRecord;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * One cycle of a relay, in one READ COMMITTED database transaction: claim a batch, send it (see
 * {@link KeyOrderedSender}), delete the rows of the acknowledged records, record the failures (see
 * {@link FailureRecorder}), commit, and only then tell the listeners what was published (they hear of each record
 * as it is acknowledged, before its row's delete commits, as sent). When the transaction fails after records were
 * acknowledged, their rows are deleted, and the rows of records still in flight held back, in a short transaction of
 * their own.
 */
final class CycleTransaction {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** The bound on the transaction that deletes acknowledged rows after their cycle's transaction failed. */
    private static final int CLEANUP_TIMEOUT_SECONDS = 10;

    private final CycleStore store;

    private final RelaySettings settings;

    private final KeyOrderedSender sender;

    private final FailureRecorder failures;

    private final RelayListeners listeners;

    private final RunState run;

    /** What each thread in a cycle is doing, to name in the warning when a stop cannot wait for it. */
    private final Map<Thread, String> activities;

    private final String relayName;

    /** The cycles' transactions, at the DataSource's own isolation level, which the claim checks. */
    private final TransactionTemplate transactions;

    /** The cycles' transactions at READ COMMITTED, set on each, for a DataSource whose level is another. */
    private final TransactionTemplate readCommitted;

    /**
     * Whether the cycles set READ COMMITTED on their transactions: when a claim found the DataSource's transactions
     * to start at another level, or when the claim cannot tell (see {@link CycleStore#reportsIsolation()}).
     */
    private final AtomicBoolean setIsolation;

    private final TransactionTemplate cleanup;

    private final Duration transactionTimeout;

    private ObservationRegistry observations = ObservationRegistry.NOOP;

    CycleTransaction(
            CycleStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            RelayListeners listeners,
            RunState run,
            Map<Thread, String> activities,
            String relayName) {
        this.store = store;
        this.settings = settings;
        this.sender = new KeyOrderedSender(
                publisher, new FailureDecisions(publisher, settings, relayName), settings.sendTimeout(), relayName);
        this.failures = new FailureRecorder(store, relayName);
        this.listeners = listeners;
        this.run = run;
        this.activities = activities;
        this.relayName = relayName;
        DataSourceTransactionManager transactionManager = new DataSourceTransactionManager(store.dataSource());
        // READ COMMITTED, whatever the database's default: under REPEATABLE READ, a claim that meets a row another
        // cycle changed since the claim's snapshot fails instead of skipping or reading it afresh. Setting it on each
        // transaction costs round trips in every cycle: Spring asks the driver for the connection's level first (the
        // PostgreSQL and MySQL drivers ask the server), and at a few events per cycle that is a good part of the
        // cycle. So where the claim's first statement reports the level, the cycles take the DataSource's, until it
        // turns out to be another: then that claim stops before claiming anything, and this cycle and all later ones
        // set READ COMMITTED.
        this.setIsolation = new AtomicBoolean(!store.reportsIsolation());
        this.transactionTimeout = settings.sendTimeout().plusSeconds(30);
        this.transactions = new TransactionTemplate(transactionManager);
        // The transaction spans the claim, the wait for acknowledgements and the delete; statements get the rest.
        this.transactions.setTimeout((int) this.transactionTimeout.toSeconds());
        this.readCommitted = new TransactionTemplate(transactionManager);
        this.readCommitted.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
        this.readCommitted.setTimeout((int) this.transactionTimeout.toSeconds());
        this.cleanup = new TransactionTemplate(transactionManager);
        this.cleanup.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
        this.cleanup.setTimeout(CLEANUP_TIMEOUT_SECONDS);
    }

    void setObservationRegistry(ObservationRegistry observations) {
        this.observations = observations;
    }

    /** One cycle of the relay's run {@code generation}: it stops sending once another run started. */
    CycleResult run(Object generation) {
        return run(generation, this::claimNext);
    }

    /**
     * One cycle of the relay's run {@code generation} that claims its rows with {@code claimer} rather than taking the
     * next claimable rows of the table.
     */
    CycleResult run(Object generation, Claimer claimer) {
        return run(generation, claimer, acknowledged -> {});
    }

    /**
     * One cycle as {@link #run(Object, Claimer)}, which hands the ids of the records the broker acknowledged, whose
     * rows' deletes committed, to {@code acknowledged}.
     */
    CycleResult run(Object generation, Claimer claimer, Consumer<List<Long>> acknowledged) {
        Cycle cycle = new Cycle(System.nanoTime(), generation, this.run, this.activities, this.listeners);
        CycleResult result;
        try {
            result = Objects.requireNonNull(execute(cycle, claimer));
        } catch (RuntimeException | Error ex) {
            // The rollback undid the delete of the rows whose records the broker acknowledged (a session killed by
            // an idle-in-transaction timeout between the sends and the commit, say): without another delete, every
            // later cycle would send them again. It undid the hold on the rows whose records are still in flight
            // too, which would let another cycle publish their keys' next records before these land.
            settleAfterFailure(cycle, ex);
            this.listeners.cycleFailed(ex);
            throw ex;
        } finally {
            this.activities.remove(Thread.currentThread());
        }
        acknowledged.accept(cycle.acknowledgedIds());
        // Listeners hear of publications and dead letters only once the rows' fate is committed.
        cycle.notifyPublished(this.listeners);
        cycle.afterCommit.forEach(Runnable::run);
        Error publisherError = cycle.publisherError;
        if (publisherError != null) {
            // The cycle committed what it did, the failed send included, but it stopped sending at the error: it
            // failed, and the relay thread backs off as after any failed cycle.
            this.listeners.cycleFailed(publisherError);
            throw publisherError;
        }
        this.listeners.cycleCompleted(result);
        return result;
    }

    private @Nullable CycleResult execute(Cycle cycle, Claimer claimer) {
        // Inside a caller's transaction (relayOnce() in one), the cycle joins it, at the caller's level, unchecked: a
        // failed first try would mark it for rollback.
        if (!this.setIsolation.get() && !TransactionSynchronizationManager.isActualTransactionActive()) {
            try {
                return this.store.checkingIsolation(
                        () -> this.transactions.execute(status -> publishBatch(cycle, status, claimer)));
            } catch (NotReadCommittedException ex) {
                if (!cycle.acknowledgedIds().isEmpty() || !cycle.inFlight.isEmpty()) {
                    // Not from the claim that starts the cycle: sending it again would send records twice.
                    throw ex;
                }
                if (this.setIsolation.compareAndSet(false, true)) {
                    logSettingIsolation(ex.isolation());
                }
            }
        }
        return this.readCommitted.execute(status -> publishBatch(cycle, status, claimer));
    }

    private void logSettingIsolation(@Nullable String isolation) {
        if (isolation == null) {
            log.warn(
                    "Outbox relay {}: its dialect, {}, says that the statement that starts a cycle reports the"
                            + " transaction's isolation level, but the statement returned no column 'isolation'; the"
                            + " cycles set READ COMMITTED on each of their transactions from now on. Fix the dialect's"
                            + " startCycle(), or have startCycleReportsIsolation() return false",
                    this.relayName,
                    this.store.dialectName());
            return;
        }
        log.info(
                "Outbox relay {}: the transactions of the outbox's DataSource start at isolation level {}, and its"
                        + " cycles need READ COMMITTED: from now on they set it on each of their transactions, and"
                        + " Spring sets the level back after each, which costs round trips to the database in every"
                        + " cycle. To save them, have that DataSource start its connections at READ COMMITTED where the"
                        + " application's own transactions on it may run at that level (with Hikari, its"
                        + " transactionIsolation TRANSACTION_READ_COMMITTED; on PostgreSQL also ALTER DATABASE or ALTER"
                        + " ROLE ... SET default_transaction_isolation = 'read committed')",
                this.relayName,
                isolation);
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
                        this.relayName,
                        ids.size(),
                        FailureRecorder.describe(failure),
                        settled[0],
                        settled[1],
                        cycle.inFlight.size());
                cycle.notifyPublished(this.listeners);
                return;
            } catch (RuntimeException ex) {
                if (attempt == 2) {
                    log.warn(
                            "Outbox relay {}: the cycle's transaction failed after the broker had acknowledged {}"
                                    + " records ({}), and their rows could not be settled either ({}): they will be"
                                    + " published again, with the same event ids",
                            this.relayName,
                            ids.size(),
                            FailureRecorder.describe(failure),
                            FailureRecorder.describe(ex));
                    return;
                }
            }
        }
    }

    private CycleStore.Claim claimNext(CycleStore store, Duration transactionTimeout) {
        return store.claim(
                this.settings.batchSize(),
                this.settings.maxBatchBytes(),
                this.settings.tableConcurrency(),
                transactionTimeout,
                this.settings.synchronousCommit());
    }

    private CycleResult publishBatch(Cycle cycle, TransactionStatus status, Claimer claimer) {
        cycle.activity("claiming rows");
        CycleStore.Claim claim = claimer.claim(this.store, this.transactionTimeout);
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
        List<Decision> failures = this.sender.send(records, cycle, claim.locked() >= this.settings.batchSize());
        cycle.activity("recording the outcome of " + records.size() + " records");
        List<Long> published = cycle.acknowledgedIds();
        // The deletes first, and the failures in a savepoint after them: a failure in the bookkeeping of failures
        // must not undo the deletes, or every later cycle would send the acknowledged records again.
        this.store.delete(published);
        FailureRecorder.Recorded recorded = this.failures.record(status, failures, published.size());
        if (!failures.isEmpty() && !this.settings.synchronousCommit()) {
            // A hold on a record that the broker may still write must outlive a crash of the database: lost with an
            // unflushed commit, it would leave the row claimable at once, and another relay could publish the key's
            // next record before that copy lands. Failures are rare; their cycles pay for the flush.
            this.store.waitForCommitFlush();
        }
        for (Decision failure : failures) {
            cycle.afterCommit.add(() -> this.listeners.sendFailed(failure.record(), failure.error(), failure.kind()));
        }
        for (Decision deadLetter : recorded.deadLettered()) {
            cycle.afterCommit.add(() -> this.listeners.deadLettered(deadLetter.record(), deadLetter.text()));
        }
        RuntimeException notRecorded = recorded.notRecorded();
        if (notRecorded != null) {
            cycle.afterCommit.add(() -> this.listeners.failuresNotRecorded(notRecorded));
        }
        log.debug(
                "Outbox relay {}: claimed {}, published {}, retrying {}, dead-lettered {}",
                this.relayName,
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

    /** How a cycle claims its rows, in its transaction. */
    @FunctionalInterface
    interface Claimer {

        /**
         * Claims the cycle's rows.
         *
         * @param store the table
         * @param transactionTimeout the relay's bound on the cycle's transaction, for {@link CycleStore#claim}
         */
        CycleStore.Claim claim(CycleStore store, Duration transactionTimeout);
    }
}
