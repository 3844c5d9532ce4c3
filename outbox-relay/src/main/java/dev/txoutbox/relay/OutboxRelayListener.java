package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;

/**
 * Hears what the relay does, for metrics, health and alerting. Every method has an empty default body; the relay
 * calls them on its own thread, so they must be quick and must not throw (an exception is logged and ignored).
 */
public interface OutboxRelayListener {

    /** The broker acknowledged a record; its row is deleted when the cycle commits. */
    default void published(OutboxRecord record, Instant acknowledgedAt) {}

    /** A send failed; {@code permanent} when retrying cannot help. */
    default void sendFailed(OutboxRecord record, Throwable error, boolean permanent) {}

    /** A record was moved to the dead letters. */
    default void deadLettered(OutboxRecord record, String error) {}

    /** A cycle ended, and its transaction committed. */
    default void cycleCompleted(OutboxRelay.CycleResult result) {}

    /** A cycle failed as a whole (the database, or an unexpected error) and was rolled back. */
    default void cycleFailed(Exception error) {}
}
