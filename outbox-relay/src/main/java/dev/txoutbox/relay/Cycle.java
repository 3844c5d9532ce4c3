package dev.txoutbox.relay;

import dev.txoutbox.relay.FailureDecisions.Decision;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** What one cycle did so far, kept outside its transaction for when that fails. */
final class Cycle {

    private final long startNanos;

    /** The run of the relay this cycle belongs to (see {@link RunState}). */
    private final Object generation;

    private final RunState run;

    /** What each thread in a cycle is doing, to name in the warning when a stop cannot wait for it. */
    private final Map<Thread, String> activities;

    /** Told of each acknowledged record at once, before its row's delete commits. */
    private final OutboxRelayListener listeners;

    private final List<OutboxRecord> acknowledged = new ArrayList<>();

    private final List<Instant> acknowledgedAt = new ArrayList<>();

    /** What the cycle tells the listeners once its transaction committed. */
    final List<Runnable> afterCommit = new ArrayList<>();

    /** The holds on the rows of records sent and still in flight when the cycle stopped waiting. */
    final List<CycleStore.Failure> inFlight = new ArrayList<>();

    /**
     * The topics whose send failed at once as unavailable (a topic the broker does not know, for which the producer
     * blocks until {@code max.block.ms} on every send), with that failure: the cycle sends them nothing more, so that
     * they do not use up its time, and records their remaining records as failed with it.
     */
    final Map<String, Throwable> unavailableTopics = new HashMap<>();

    /** The first {@link Error} the publisher threw, after which the cycle sent nothing more. */
    @Nullable
    Error publisherError;

    Cycle(
            long startNanos,
            Object generation,
            RunState run,
            Map<Thread, String> activities,
            OutboxRelayListener listeners) {
        this.startNanos = startNanos;
        this.generation = generation;
        this.run = run;
        this.activities = activities;
        this.listeners = listeners;
    }

    /** When the cycle started, on {@link System#nanoTime()}'s clock. */
    long startNanos() {
        return this.startNanos;
    }

    /** Whether the relay was asked to stop since this cycle's run started, or started another run since. */
    boolean stopping() {
        return this.run.stopping(this.generation);
    }

    /** How long the cycle waits for acknowledgements: the send deadline, or the shutdown deadline once stopping. */
    long waitDeadline(long sendDeadline) {
        return this.run.waitDeadline(sendDeadline, this.generation);
    }

    /** Says what the calling thread is doing in this cycle. */
    void activity(String what) {
        this.activities.put(Thread.currentThread(), what);
    }

    void acknowledged(OutboxRecord record) {
        Instant now = Instant.now();
        this.acknowledged.add(record);
        this.acknowledgedAt.add(now);
        this.listeners.sent(record, now);
    }

    List<Long> acknowledgedIds() {
        return this.acknowledged.stream().map(OutboxRecord::id).toList();
    }

    /** Holds back the row of a record that may still be written, also should the cycle's transaction fail. */
    void inFlight(Decision hold) {
        this.inFlight.add(new CycleStore.Failure(hold.record().id(), hold.retryDelayMillis(), hold.text()));
    }

    void notifyPublished(OutboxRelayListener listeners) {
        for (int i = 0; i < this.acknowledged.size(); i++) {
            listeners.published(this.acknowledged.get(i), this.acknowledgedAt.get(i));
        }
    }
}
