package dev.txoutbox.relay;

import dev.txoutbox.relay.FailureDecisions.Decision;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.TransactionSystemException;

/**
 * Records what {@link FailureDecisions} decided for a cycle's failed sends (a retry after a delay, or a dead letter)
 * in the cycle's transaction, after the cycle deleted the rows of its acknowledged records. The failures are recorded
 * inside a savepoint, so that a failure that repeats whenever they are recorded (the relay's database user may not
 * insert into the dead-letter table, say) cannot roll back those deletes too: every later cycle would send the same
 * records again, without end.
 */
final class FailureRecorder {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private final CycleStore store;

    private final String relayName;

    /** Whether the stack trace of a failure to record failures was logged already: once is enough to find it. */
    private final AtomicBoolean recordingFailureLogged = new AtomicBoolean();

    FailureRecorder(CycleStore store, String relayName) {
        this.store = store;
        this.relayName = relayName;
    }

    /**
     * Records the failures in a savepoint of the cycle's transaction. When that fails, it rolls back to the
     * savepoint and records every failure as a retry instead, so that a row that could not be moved to the dead
     * letters is not sent again at once; when even that fails, the rows stay as they were, for a later cycle. Either
     * way the rest of the transaction (the deletes of acknowledged rows) commits.
     */
    Recorded record(TransactionStatus status, List<Decision> decisions, int acknowledged) {
        if (decisions.isEmpty()) {
            return new Recorded(List.of(), List.of(), null);
        }
        List<Decision> retries =
                decisions.stream().filter(each -> !each.deadLetter()).toList();
        List<Decision> deadLetters =
                decisions.stream().filter(Decision::deadLetter).toList();
        RuntimeException failure;
        Object savepoint = status.createSavepoint();
        try {
            this.store.recordFailures(failures(retries));
            this.store.deadLetter(failures(deadLetters));
            status.releaseSavepoint(savepoint);
            logFailures(decisions.size(), retries, deadLetters);
            return new Recorded(retries, deadLetters, null);
        } catch (RuntimeException ex) {
            status.rollbackToSavepoint(savepoint);
            failure = ex;
        }
        Object fallback = status.createSavepoint();
        try {
            this.store.recordFailures(failures(decisions));
            status.releaseSavepoint(fallback);
            logNotRecorded(failure, decisions.size(), deadLetters.size(), acknowledged, true);
            return new Recorded(decisions, List.of(), failure);
        } catch (RuntimeException ex) {
            status.rollbackToSavepoint(fallback);
            failure.addSuppressed(ex);
            logNotRecorded(failure, decisions.size(), deadLetters.size(), acknowledged, false);
            return new Recorded(List.of(), List.of(), failure);
        }
    }

    private void logFailures(int failed, List<Decision> retries, List<Decision> deadLetters) {
        if (!retries.isEmpty()) {
            log.warn(
                    "Outbox relay {}: {} of the cycle's failed sends will be retried; first: row {}: {}",
                    this.relayName,
                    retries.size(),
                    retries.get(0).record().id(),
                    retries.get(0).text());
        }
        for (Decision deadLetter : deadLetters) {
            log.error(
                    "Outbox relay {}: row {} moved to the dead letters, its key is held until an operator requeues"
                            + " or discards it: {}",
                    this.relayName,
                    deadLetter.record().id(),
                    deadLetter.text());
        }
        log.debug("Outbox relay {}: recorded {} failed sends", this.relayName, failed);
    }

    private void logNotRecorded(
            RuntimeException failure, int failed, int deadLetters, int acknowledged, boolean recordedAsRetries) {
        String cause = describe(failure);
        String outcome = recordedAsRetries
                ? "they were recorded as retries with backoff instead, " + deadLetters
                        + " of them rows that should have become dead letters"
                : "their rows stay as they were and are sent again by a later cycle";
        String message = "Outbox relay {}: could not record {} failed sends in table '{}' or move rows to '{}': {}."
                + " The rows of the cycle's {} acknowledged records were deleted all the same; {}. Check that the"
                + " relay's database user may UPDATE '{}' and INSERT into '{}', and the constraints of '{}'.";
        Object[] arguments = {
            this.relayName,
            failed,
            this.store.table(),
            this.store.table().deadLetters(),
            cause,
            acknowledged,
            outcome,
            this.store.table(),
            this.store.table().deadLetters(),
            this.store.table().deadLetters()
        };
        if (this.recordingFailureLogged.compareAndSet(false, true)) {
            Object[] withTrace = java.util.Arrays.copyOf(arguments, arguments.length + 1);
            withTrace[arguments.length] = failure;
            log.error(message, withTrace);
        } else {
            log.error(message, arguments);
        }
    }

    private static List<CycleStore.Failure> failures(List<Decision> decisions) {
        List<CycleStore.Failure> failures = new ArrayList<>(decisions.size());
        for (Decision decision : decisions) {
            failures.add(new CycleStore.Failure(decision.record().id(), decision.retryDelayMillis(), decision.text()));
        }
        return failures;
    }

    /**
     * The real cause of an error, for operators: the innermost cause's class and message (such as Kafka's
     * {@code RecordTooLargeException} and the broker's text), not the wrapper that reported it (a
     * {@code KafkaProducerException} that says only "Failed to send", an {@link ExecutionException}), whose type
     * follows as a suffix.
     */
    static String describe(Throwable error) {
        if (error instanceof TransactionSystemException rollbackFailed
                && rollbackFailed.getApplicationException() != null) {
            // The rollback failed too (its connection was gone): what made the transaction roll back is the cause.
            return describe(rollbackFailed.getApplicationException());
        }
        Throwable root = error;
        for (int depth = 0; depth < 32 && root.getCause() != null && root.getCause() != root; depth++) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : error.getMessage();
        StringBuilder text = new StringBuilder(root.getClass().getName());
        if (message != null) {
            text.append(": ").append(message);
        }
        Throwable wrapper = outermostWrapper(error, root);
        if (wrapper != null) {
            // The type only: a wrapper's message is its own words ("Failed to send") or repeats the cause's.
            text.append(" (reported as ")
                    .append(wrapper.getClass().getSimpleName())
                    .append(')');
        }
        return text.toString();
    }

    /** The outermost wrapper worth naming: not a future's own {@link ExecutionException} or alike. */
    private static @Nullable Throwable outermostWrapper(Throwable error, Throwable root) {
        for (Throwable each = error; each != root && each != null; each = each.getCause()) {
            if (!(each instanceof ExecutionException || each instanceof CompletionException)) {
                return each;
            }
        }
        return null;
    }

    /**
     * What was recorded.
     *
     * @param retried the failures recorded as retries
     * @param deadLettered the failures moved to the dead letters
     * @param notRecorded why the failures could not be recorded as decided, or {@code null} when they were
     */
    record Recorded(
            List<Decision> retried,
            List<Decision> deadLettered,
            @Nullable RuntimeException notRecorded) {}
}
