package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;

/**
 * Hears what the relay does, for metrics, health and alerting. Every method has an empty default body; the relay
 * calls them on its own thread, so they must be quick and must not throw (an exception or error is logged, once per
 * listener, and ignored).
 */
public interface OutboxRelayListener {

    /**
     * The broker acknowledged a record, and its row is not deleted yet: the cycle deletes it when its transaction
     * commits, after the other records of its batch. The record is sent, not yet "published and deleted": should that
     * delete fail to commit, the row stays and the record is sent again by a later cycle, with the same event id (and
     * this method is called again). Called on the relay's thread before {@link #published}, so that what a listener
     * remembers here is there before the row is gone from the table.
     */
    default void sent(OutboxRecord record, Instant acknowledgedAt) {}

    /**
     * The broker acknowledged a record and the delete of its row committed; called after the cycle's transaction
     * committed (or, when that failed, after the row was deleted in a transaction of its own).
     */
    default void published(OutboxRecord record, Instant acknowledgedAt) {}

    /** A send failed; {@code kind} says whether retrying can help, see {@link FailureKind}. */
    default void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {}

    /** A record was moved to the dead letters. */
    default void deadLettered(OutboxRecord record, String error) {}

    /** A cycle ended, and its transaction committed. */
    default void cycleCompleted(OutboxRelay.CycleResult result) {}

    /**
     * A cycle failed as a whole (the database, or an unexpected error, also an {@link Error}) and was rolled back. The
     * rows of the records the broker had acknowledged before are deleted all the same, in a transaction of their own;
     * the relay goes on after a backoff.
     */
    default void cycleFailed(Throwable error) {}

    /**
     * A cycle deleted the rows of its acknowledged records, but could not record its failed sends as decided (their
     * retry time, or their move to the dead letters, say for want of a privilege on the dead-letter table): they are
     * recorded as retries with backoff instead where that works, otherwise those rows stay as they were and are sent
     * again by a later cycle. Until the cause is fixed, no record becomes a dead letter.
     */
    default void failuresNotRecorded(Throwable error) {}
}
