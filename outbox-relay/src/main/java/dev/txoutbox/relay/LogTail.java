package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of a relay in log mode (see {@link OutboxRelay#tailing}). It opens the {@link CommitLog}, or waits as a
 * standby while another relay reads it, and then, until it stops or loses the log: takes the ids of the committed
 * transactions the log gives, in commit order, up to a batch; claims and publishes their rows in one cycle, in that
 * order (see {@link CycleStore#claimIds}), with the failure handling of a polling cycle; and confirms to the log the
 * transactions whose ids are all settled.
 *
 * <p>The table stays what is true, as in poll mode: a row is deleted once the broker acknowledged its record, and
 * every row that the log's fast path does not publish (a failed send waiting for its retry, a key behind a dead
 * letter, rows written before the log began or while it was lost) waits in the table. The reader polls the table for
 * them when the log began with it, and then every poll interval once it has read all the log holds (at the latest
 * every few poll intervals): one claim that finds nothing while nothing waits.
 */
final class LogTail {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    /** The longest a reader waits for the log before it looks whether the relay is stopping. */
    private static final Duration LONGEST_WAIT = Duration.ofMillis(100);

    /**
     * How long the log owns a row that was never sent: the periodic polls leave newer rows to it, so that they go out
     * in commit order.
     */
    private static final Duration LOG_OWNS_ROWS_FOR = Duration.ofSeconds(10);

    /** After how many poll intervals at most the reader polls the table even while the log keeps it busy. */
    private static final int POLL_AT_THE_LATEST = 10;

    /** The least a standby waits before it tries to take the log again. */
    private static final long LEAST_STANDBY_WAIT_MILLIS = 1_000;

    /** How long after its transaction came a row the claim does not find counts as gone rather than not yet visible. */
    static final long VISIBILITY_GRACE = TimeUnit.SECONDS.toNanos(1);

    /** How many batches' worth of ids a claim takes at most, when rows of the last one waited for later ids. */
    private static final int LARGEST_WINDOW = 16;

    /** The first wait before ids that a claim did not settle are claimed again. */
    private static final long FIRST_HELD_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** The longest wait before ids that wait for an earlier row of their key are claimed again. */
    private static final long HELD_WAIT_MILLIS = 20;

    /** The wait after a cycle that found every cycle slot of the table taken. */
    private static final long NO_FREE_SLOT_WAIT_MILLIS = 50;

    private final CommitLog commitLog;

    private final CycleTransaction cycles;

    private final RelaySettings settings;

    private final Waiter waiter;

    private final TableVacuum vacuum;

    private final String relayName;

    private volatile OutboxRelay.LogRole role = OutboxRelay.LogRole.STARTING;

    LogTail(
            CommitLog commitLog,
            CycleTransaction cycles,
            RelaySettings settings,
            Waiter waiter,
            TableVacuum vacuum,
            String relayName) {
        this.commitLog = commitLog;
        this.cycles = cycles;
        this.settings = settings;
        this.waiter = waiter;
        this.vacuum = vacuum;
        this.relayName = relayName;
    }

    OutboxRelay.LogRole role() {
        return this.role;
    }

    CommitLog commitLog() {
        return this.commitLog;
    }

    /** Runs until {@code running} turns false; never throws. */
    void run(Object generation, BooleanSupplier running) {
        long errorDelay = this.settings.pollInterval().toMillis();
        while (running.getAsBoolean()) {
            CommitLog.Reader reader;
            try {
                reader = this.commitLog.open();
            } catch (CommitLog.HeldElsewhereException ex) {
                if (this.role != OutboxRelay.LogRole.STANDBY) {
                    log.info(
                            "Outbox relay {}: waits as a standby, another relay reads {} ({}); it takes over when"
                                    + " that one stops or loses its connection",
                            this.relayName,
                            this.commitLog.describe(),
                            ex.getMessage());
                }
                this.role = OutboxRelay.LogRole.STANDBY;
                this.waiter.await(Math.max(
                        LEAST_STANDBY_WAIT_MILLIS, this.settings.pollInterval().toMillis()));
                continue;
            } catch (CommitLog.LostException ex) {
                this.role = OutboxRelay.LogRole.RESTARTING;
                log.error(
                        "Outbox relay {}: {} is lost: {}. Nothing is lost with it: the table holds every row not yet"
                                + " published, and the relay publishes them by polling the table. It starts the log"
                                + " anew from now and reads it again once it could. To keep this from happening, see"
                                + " max_slot_wal_keep_size and the slot's lag in the relay's metrics and health.",
                        this.relayName,
                        this.commitLog.describe(),
                        ex.getMessage());
                try {
                    this.commitLog.restart();
                } catch (Exception | Error restartFailed) {
                    log.warn(
                            "Outbox relay {}: could not start {} anew, polls the table and tries again: {}",
                            this.relayName,
                            this.commitLog.describe(),
                            FailureRecorder.describe(restartFailed),
                            restartFailed);
                    try {
                        pollTable(generation, running);
                    } catch (Exception | Error pollFailed) {
                        errorDelay = failed("could not poll the table", pollFailed, errorDelay, null, running);
                        continue;
                    }
                    this.waiter.await(errorDelay);
                }
                continue;
            } catch (Exception | Error ex) {
                errorDelay = failed("could not open " + this.commitLog.describe(), ex, errorDelay, generation, running);
                continue;
            }
            try (reader) {
                this.role = OutboxRelay.LogRole.READING;
                log.info("Outbox relay {}: reads {}", this.relayName, this.commitLog.describe());
                errorDelay = this.settings.pollInterval().toMillis();
                read(reader, generation, running);
            } catch (Exception | Error ex) {
                errorDelay =
                        failed("stopped reading " + this.commitLog.describe(), ex, errorDelay, generation, running);
            }
        }
        this.role = OutboxRelay.LogRole.STOPPED;
    }

    /**
     * Logs what failed and waits before the next try; meanwhile, unless {@code generation} is null, polls the table,
     * so that rows keep going out while the log cannot be read (a refused connection, a stream the relay cannot
     * follow). The polls keep to the row locks, as those of several polling relays do, should another relay read the
     * log meanwhile.
     */
    private long failed(
            String what, Throwable ex, long errorDelay, @Nullable Object generation, BooleanSupplier running) {
        this.role = OutboxRelay.LogRole.STARTING;
        log.warn(
                "Outbox relay {}: {}, trying again in {} ms, polling the table meanwhile: {}",
                this.relayName,
                what,
                errorDelay,
                FailureRecorder.describe(ex),
                ex);
        if (generation != null) {
            try {
                pollTable(generation, running);
            } catch (RuntimeException | Error pollFailed) {
                log.debug("Outbox relay {}: could not poll the table either", this.relayName, pollFailed);
            }
        }
        this.waiter.await(errorDelay);
        return Math.min(
                errorDelay * 2, Math.max(30_000, this.settings.pollInterval().toMillis()));
    }

    private void read(CommitLog.Reader reader, Object generation, BooleanSupplier running) throws Exception {
        PendingCommits pending = new PendingCommits();
        long pollInterval = this.settings.pollInterval().toNanos();
        if (reader.fresh()) {
            // Rows committed before the log began are only in the table.
            pollTable(generation, running);
        }
        long lastPoll = System.nanoTime();
        int window = this.settings.batchSize();
        long heldWait = FIRST_HELD_WAIT_NANOS;
        while (running.getAsBoolean()) {
            long sincePoll = System.nanoTime() - lastPoll;
            Duration wait = pending.isEmpty()
                    ? Duration.ofNanos(Math.max(0, Math.min(pollInterval - sincePoll, LONGEST_WAIT.toNanos())))
                    : Duration.ZERO;
            CommitLog.Commit commit = reader.poll(wait);
            boolean caughtUp = commit == null;
            for (; commit != null; commit = pending.size() < window ? reader.poll(Duration.ZERO) : null) {
                pending.add(commit, System.nanoTime());
            }
            // The table is polled for what the log handed back to it (retries, rows behind a requeued dead letter),
            // and only for that, once the log is caught up, so that a backlog in the log goes out in commit order
            // rather than by
            // polls; and at the latest after a few poll intervals, so that a busy log does not hold those rows up.
            sincePoll = System.nanoTime() - lastPoll;
            if ((caughtUp && sincePoll >= pollInterval) || sincePoll >= POLL_AT_THE_LATEST * pollInterval) {
                pollTable(generation, running, true);
                lastPoll = System.nanoTime();
            }
            if (pending.isEmpty()) {
                continue;
            }
            List<PendingCommits.Pending> selected = pending.next(window);
            List<Long> ids = selected.stream().map(PendingCommits.Pending::id).toList();
            AtomicReference<CycleStore.@Nullable IdClaim> claimed = new AtomicReference<>();
            Set<Long> settled = new HashSet<>();
            long claimedAt = System.nanoTime();
            OutboxRelay.CycleResult result = this.cycles.run(
                    generation,
                    (store, transactionTimeout) -> {
                        CycleStore.IdClaim claim = store.claimIds(
                                ids,
                                this.settings.maxBatchBytes(),
                                this.settings.tableConcurrency(),
                                transactionTimeout,
                                this.settings.synchronousCommit());
                        claimed.set(claim);
                        return claim.claim();
                    },
                    settled::addAll);
            if (result.noFreeSlot()) {
                this.waiter.await(NO_FREE_SLOT_WAIT_MILLIS, true);
                continue;
            }
            this.vacuum.afterDeleted(result.published() + result.deadLettered());
            CycleStore.IdClaim claim = claimed.get();
            if (claim != null) {
                for (PendingCommits.Pending each : selected) {
                    // Not found: published already, or left to the table (a failed send waits there for its retry).
                    // Unless its transaction came only just now: then the row may not be visible yet (a commit is
                    // in the log before it is visible, by a synchronous standby's round trip with one).
                    if (!claim.found().contains(each.id()) && claimedAt - each.receivedAtNanos() >= VISIBILITY_GRACE) {
                        settled.add(each.id());
                    }
                }
            }
            // A row that waits for an earlier row of its key may wait for one just past the ids taken (two
            // transactions of one key whose ids came in the other order, at the edge of the batch): the next claim
            // takes more ids, so that both come in one claim and go out in commit order.
            int waiting = claim != null
                    ? claim.found().size() - claim.claim().records().size()
                    : 0;
            window = waiting > 0
                    ? Math.min(window * 2, this.settings.batchSize() * LARGEST_WINDOW)
                    : this.settings.batchSize();
            Long confirmable = pending.settle(settled);
            if (confirmable != null) {
                reader.confirm(confirmable);
            }
            if (settled.isEmpty() && result.published() + result.deadLettered() + result.failed() == 0) {
                // The ids left wait for their rows to become visible (a commit is in the log a moment before), for
                // an earlier row of their key, or for a cycle slot: claim them again a little later, a millisecond
                // at first, longer while nothing moves.
                LockSupport.parkNanos(heldWait);
                heldWait = Math.min(
                        heldWait * 2,
                        TimeUnit.MILLISECONDS.toNanos(Math.min(
                                HELD_WAIT_MILLIS, this.settings.pollInterval().toMillis())));
            } else {
                heldWait = FIRST_HELD_WAIT_NANOS;
            }
        }
    }

    /**
     * Publishes what waits in the table, as a polling relay does, batch after batch while they come back full: rows
     * whose retry is due, rows behind a dead letter that was requeued, rows written before the log began.
     */
    private void pollTable(Object generation, BooleanSupplier running) {
        pollTable(generation, running, false);
    }

    /**
     * Publishes what waits in the table; with {@code handedBackOnly}, only rows that the log cannot bring any more:
     * rows sent before (waiting for their retry) and rows older than {@link #LOG_OWNS_ROWS_FOR}. A newer row may be
     * one that the log is about to bring, in commit order, which a poll would publish in id order instead.
     */
    private void pollTable(Object generation, BooleanSupplier running, boolean handedBackOnly) {
        while (running.getAsBoolean()) {
            OutboxRelay.CycleResult result =
                    handedBackOnly ? this.cycles.run(generation, this::claimHandedBack) : this.cycles.run(generation);
            int moved = result.published() + result.deadLettered();
            this.vacuum.afterDeleted(moved);
            if (moved == 0 || result.locked() < this.settings.batchSize()) {
                return;
            }
        }
    }

    private CycleStore.Claim claimHandedBack(CycleStore store, Duration transactionTimeout) {
        CycleStore.Claim claim = store.claim(
                this.settings.batchSize(),
                this.settings.maxBatchBytes(),
                this.settings.tableConcurrency(),
                transactionTimeout,
                this.settings.synchronousCommit());
        Instant logOwns = Instant.now().minus(LOG_OWNS_ROWS_FOR);
        List<OutboxRecord> handedBack = new ArrayList<>(claim.records().size());
        Set<Waves.TopicKey> leftToTheLog = new HashSet<>();
        for (OutboxRecord record : claim.records()) {
            Waves.TopicKey key = Waves.TopicKey.of(record);
            boolean fromTheLog = record.attempts() == 0 && record.createdAt().isAfter(logOwns);
            if (fromTheLog || (key != null && leftToTheLog.contains(key))) {
                // Its key's later rows wait too, for order.
                if (key != null) {
                    leftToTheLog.add(key);
                }
                continue;
            }
            handedBack.add(record);
        }
        return new CycleStore.Claim(handedBack, claim.locked(), claim.noFreeSlot());
    }
}
