package dev.txoutbox.store;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How the outbox stands at one moment.
 *
 * @param waiting rows waiting to be published
 * @param oldestCreatedAt when the oldest waiting row was written, or {@code null} when none waits
 * @param deadLetters events in the dead letters
 * @param parkedKeys distinct keys that have a dead letter (parked, when keys are parked)
 * @param readAt when the figures were read, by the database's clock
 */
public record OutboxStatistics(
        long waiting, @Nullable Instant oldestCreatedAt, long deadLetters, long parkedKeys, Instant readAt) {

    /** How long the oldest waiting row has waited: the relay's lag; zero when none waits. */
    public java.time.Duration lag() {
        return this.oldestCreatedAt == null
                ? java.time.Duration.ZERO
                : java.time.Duration.between(this.oldestCreatedAt, this.readAt);
    }
}
