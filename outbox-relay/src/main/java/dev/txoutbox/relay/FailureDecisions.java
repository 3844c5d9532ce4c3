package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides what becomes of a failed send: a retry after a backoff delay, a dead letter (a permanent failure, or a
 * transient one at its last attempt), a retry for as long as the destination is unavailable, or a hold on a record
 * the publisher may still write, whose row then waits until the publisher gives up on it. The publisher is asked
 * what a failure means, and whatever it throws when asked is taken for the safe answer.
 */
final class FailureDecisions {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private static final int MAX_ERROR_LENGTH = 2000;

    private final RecordPublisher publisher;

    private final RelaySettings settings;

    private final Backoff backoff;

    private final String relayName;

    FailureDecisions(RecordPublisher publisher, RelaySettings settings, String relayName) {
        this.publisher = publisher;
        this.settings = settings;
        this.backoff = settings.backoff();
        this.relayName = relayName;
    }

    /**
     * A record sent but not acknowledged when the cycle stopped waiting: the publisher may still write it for up to
     * its {@link RecordPublisher#maxDeliveryTime()} after the send. Its row must not be claimed again before then, or
     * another cycle could publish the key's next record (a tombstone, say) before this copy lands.
     */
    Decision inFlight(Send send, Cycle cycle) {
        String why = cycle.stopping()
                ? "not acknowledged before the relay stopped (RelaySettings.shutdownTimeout="
                        + this.settings.shutdownTimeout() + ")"
                : "not acknowledged within the send timeout (RelaySettings.sendTimeout=" + this.settings.sendTimeout()
                        + ")";
        return hold(send, new SendTimeoutException(why), cycle);
    }

    /**
     * The failure of a record that the publisher may still write: its row waits until
     * {@link RecordPublisher#maxDeliveryTime()} has passed since the send.
     */
    Decision hold(Send send, Throwable error, Cycle cycle) {
        // The delay counts from the transaction's start in the database, which is after the cycle's start here.
        long until = send.sentAtNanos() + maxDeliveryTime().toNanos();
        long minDelayMillis = Math.max(0, (until - cycle.startNanos() + 999_999) / 1_000_000);
        return failure(send.record(), error, minDelayMillis);
    }

    /**
     * A failed send.
     *
     * @param minDelayMillis the least time before the row may be claimed again, whatever the backoff says: for a
     *     record that may still be written by the publisher, until the publisher gives up on it
     */
    Decision failure(OutboxRecord record, Throwable error, long minDelayMillis) {
        log.debug("Outbox relay {}: send failed for {}", this.relayName, record, error);
        // The relay's own deadline says the broker did not answer in time; the publisher need not be asked.
        FailureKind kind = error instanceof SendTimeoutException ? FailureKind.UNAVAILABLE : classify(record, error);
        return decide(record, error, kind, minDelayMillis);
    }

    Decision decide(OutboxRecord record, Throwable error, FailureKind kind, long minDelayMillis) {
        int attempt = record.attempts() + 1;
        // An unavailable destination is retried for as long as it lasts: attempts grow the backoff, but never make a
        // healthy event a dead letter.
        boolean deadLetter = kind == FailureKind.PERMANENT
                || (kind == FailureKind.TRANSIENT && attempt >= this.settings.maxAttempts());
        String text = "event %s to topic '%s' (key %s, attempt %d%s): %s"
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
                        FailureRecorder.describe(error));
        if (text.length() > MAX_ERROR_LENGTH) {
            text = text.substring(0, MAX_ERROR_LENGTH);
        }
        long delay = Math.max(this.backoff.delayMillis(attempt), minDelayMillis);
        return new Decision(record, error, kind, deadLetter, delay, text);
    }

    /** Whether, by the publisher, the failed record may still be written; yes when it cannot say. */
    boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
        try {
            return this.publisher.mayStillBeWritten(record, error);
        } catch (Throwable ex) {
            // Any Throwable, as for maxDeliveryTime(); unanswered, the record may still be written.
            log.debug(
                    "Outbox relay {}: could not ask the publisher whether {} may still be written",
                    this.relayName,
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
            log.debug("Outbox relay {}: could not ask the publisher for its delivery time", this.relayName, ex);
            return Duration.ZERO;
        }
    }

    /** What the failure says about the record's chances, by the publisher; transient when it cannot say. */
    FailureKind classify(OutboxRecord record, Throwable error) {
        try {
            return this.publisher.classify(record, error);
        } catch (Throwable ex) {
            // Any Throwable, as for maxDeliveryTime().
            log.debug("Outbox relay {}: could not classify {}", this.relayName, error, ex);
            return FailureKind.TRANSIENT;
        }
    }

    /** The relay gave up waiting for the broker's acknowledgement of a record it sent. */
    static final class SendTimeoutException extends TimeoutException {

        SendTimeoutException(String message) {
            super(message);
        }
    }

    /**
     * What becomes of one failed send.
     *
     * @param record the record whose send failed
     * @param error why it failed
     * @param kind what the failure says about the record's chances
     * @param deadLetter whether it becomes a dead letter (otherwise it is retried)
     * @param retryDelayMillis how long its row waits before it may be claimed again
     * @param text the error as recorded in the row, the dead letter and the log
     */
    record Decision(
            OutboxRecord record,
            Throwable error,
            FailureKind kind,
            boolean deadLetter,
            long retryDelayMillis,
            String text) {}
}
