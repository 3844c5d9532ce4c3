package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A record a cycle handed to the publisher (or did not, when {@code future} is null), and when.
 *
 * @param record the record
 * @param future the publisher's future, or {@code null} when the record was never handed over
 * @param sentAtNanos when it was handed over, on {@link System#nanoTime()}'s clock
 */
record Send(OutboxRecord record, @Nullable CompletableFuture<?> future, long sentAtNanos) {

    /** The longest a cycle waits for an acknowledgement before it looks again whether the relay is stopping. */
    private static final long STOP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** A record the cycle never handed to the publisher: its row stays as it was, no attempt counted. */
    static Send notSent(OutboxRecord record) {
        return new Send(record, null, 0);
    }

    /**
     * A record the cycle did not hand to the publisher since another send to its topic just failed with
     * {@code error}: it is recorded as failed with that error, and can never have been written.
     */
    static Send refused(OutboxRecord record, Throwable error) {
        return new Send(record, CompletableFuture.failedFuture(error), -1);
    }

    /** Whether the record was handed to the publisher, which may then have written it. */
    boolean handedOver() {
        return this.future != null && this.sentAtNanos != -1;
    }

    /** Why the send failed at once, or null when it did not: {@code publish} threw or returned a failed future. */
    @Nullable
    Throwable failedAtOnce() {
        CompletableFuture<?> sent = this.future;
        if (sent == null || !sent.isCompletedExceptionally()) {
            return null;
        }
        try {
            sent.join();
            return null;
        } catch (CompletionException ex) {
            return ex.getCause() != null ? ex.getCause() : ex;
        } catch (CancellationException ex) {
            return ex;
        }
    }

    /**
     * Waits for the acknowledgement until the deadline, asked again every little while, since a stop request moves it
     * closer: a cycle that waits for the send timeout must not keep a stopping relay waiting that long.
     *
     * @param deadline the current deadline, on {@link System#nanoTime()}'s clock
     */
    Outcome awaitAcknowledgement(LongSupplier deadline) {
        if (this.future == null) {
            return Outcome.NOT_SENT;
        }
        CompletableFuture<?> sent = Objects.requireNonNull(this.future);
        while (true) {
            long left = deadline.getAsLong() - System.nanoTime();
            try {
                sent.get(Math.max(0, Math.min(left, STOP_CHECK_NANOS)), TimeUnit.NANOSECONDS);
                return Outcome.ACKNOWLEDGED;
            } catch (ExecutionException ex) {
                return Outcome.failed(ex.getCause() != null ? ex.getCause() : ex);
            } catch (CancellationException ex) {
                return Outcome.failed(ex);
            } catch (TimeoutException ex) {
                if (left <= 0) {
                    return Outcome.IN_FLIGHT;
                }
            } catch (InterruptedException ex) {
                // Nobody should interrupt a relay thread; if someone does, the record may still be written.
                Thread.currentThread().interrupt();
                return Outcome.IN_FLIGHT;
            }
        }
    }

    /**
     * What became of one send: acknowledged, failed with an error, still in flight when the cycle stopped waiting
     * (the publisher may still write it), or not sent (nor counted) at all.
     */
    record Outcome(
            boolean acknowledged,
            boolean inFlight,
            @Nullable Throwable error) {

        static final Outcome ACKNOWLEDGED = new Outcome(true, false, null);

        static final Outcome IN_FLIGHT = new Outcome(false, true, null);

        static final Outcome NOT_SENT = new Outcome(false, false, null);

        static Outcome failed(Throwable error) {
            return new Outcome(false, false, error);
        }
    }
}
