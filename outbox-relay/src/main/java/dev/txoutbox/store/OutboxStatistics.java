package dev.txoutbox.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How the outbox stands at one moment.
 *
 * @param waiting rows waiting to be published
 * @param oldestCreatedAt when the oldest row that the relay could publish now was written (rows waiting for a retry,
 *     or behind a parked key, do not count), or {@code null} when there is none
 * @param deadLetters events in the dead letters
 * @param parkedKeys distinct keys that have a dead letter (parked, when keys are parked)
 * @param readAt when the figures were read, by the database's clock
 */
public record OutboxStatistics(
        long waiting, @Nullable Instant oldestCreatedAt, long deadLetters, long parkedKeys, Instant readAt) {

    /** How long the oldest row that the relay could publish now has waited: the relay's lag; zero when none. */
    public java.time.Duration lag() {
        return this.oldestCreatedAt == null
                ? java.time.Duration.ZERO
                : java.time.Duration.between(this.oldestCreatedAt, this.readAt);
    }
}
