package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Remembers what the health indicator reports of the relay: its last error, when it last published, how many cycles
 * in a row sent records and got none acknowledged (the broker is unreachable, or refuses everything), how many cycles
 * in a row failed as a whole (the database), whether the last cycle failed with an {@link Error}, which topics are
 * unavailable now and since when, and whether failed sends could not be recorded, with how many cycles have recorded
 * their failed sends since.
 */
final class RelayHealthTracker implements OutboxRelayListener {

    private final Clock clock;

    private final UnavailableTopics unavailableTopics;

    /** Whether the cycle running on this thread reported that it could not record its failures. */
    private final ThreadLocal<Boolean> failuresNotRecordedThisCycle = new ThreadLocal<>();

    private volatile @Nullable String lastError;

    private volatile @Nullable Instant lastErrorAt;

    private volatile @Nullable Instant lastPublishedAt;

    private volatile int unacknowledgedCycles;

    private volatile int failedCycles;

    private volatile @Nullable Problem cycleError;

    private volatile @Nullable Problem failuresNotRecorded;

    private volatile int cyclesSinceFailuresNotRecorded;

    RelayHealthTracker() {
        this(Clock.systemUTC(), RelaySettings.defaults());
    }

    RelayHealthTracker(Clock clock, RelaySettings settings) {
        this.clock = clock;
        this.unavailableTopics = new UnavailableTopics(clock, UnavailableTopics.retryPeriod(settings));
    }

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        this.lastPublishedAt = acknowledgedAt;
        this.unavailableTopics.acknowledged(record.topic());
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
        String text = OutboxMetrics.describe(error);
        error(text + " (event " + record.eventId() + ", topic '" + record.topic() + "')");
        if (kind == FailureKind.UNAVAILABLE) {
            this.unavailableTopics.failed(record.topic(), text);
        }
    }

    @Override
    public synchronized void cycleCompleted(OutboxRelay.CycleResult result) {
        this.failedCycles = 0;
        this.cycleError = null;
        if (result.published() > 0 || result.deadLettered() > 0) {
            // The broker answers: it acknowledged records, or refused some for good.
            this.unacknowledgedCycles = 0;
        } else if (result.failed() > 0) {
            this.unacknowledgedCycles++;
        }
        if (Boolean.TRUE.equals(this.failuresNotRecordedThisCycle.get())) {
            this.failuresNotRecordedThisCycle.remove();
        } else if (this.failuresNotRecorded != null && result.failed() + result.deadLettered() > 0) {
            // Only a cycle that had failed sends to record, and recorded them, shows the cause is gone: an idle
            // cycle, or one whose sends all went through, says nothing about it.
            this.cyclesSinceFailuresNotRecorded++;
        }
    }

    @Override
    public synchronized void cycleFailed(Throwable error) {
        this.failedCycles++;
        this.failuresNotRecordedThisCycle.remove();
        String text = OutboxMetrics.describe(error);
        if (error instanceof Error) {
            this.cycleError = new Problem(this.clock.instant(), text);
        }
        error(text);
    }

    @Override
    public synchronized void failuresNotRecorded(Throwable error) {
        String text = OutboxMetrics.describe(error);
        this.failuresNotRecorded = new Problem(this.clock.instant(), text);
        this.cyclesSinceFailuresNotRecorded = 0;
        this.failuresNotRecordedThisCycle.set(Boolean.TRUE);
        error("failures not recorded: " + text);
    }

    private void error(String text) {
        this.lastError = text;
        this.lastErrorAt = this.clock.instant();
    }

    /** The time now, by the clock that dates what this tracker remembers. */
    Instant now() {
        return this.clock.instant();
    }

    @Nullable
    String lastError() {
        return this.lastError;
    }

    @Nullable
    Instant lastErrorAt() {
        return this.lastErrorAt;
    }

    @Nullable
    Instant lastPublishedAt() {
        return this.lastPublishedAt;
    }

    /** Cycles in a row that sent records and got none acknowledged. */
    int unacknowledgedCycles() {
        return this.unacknowledgedCycles;
    }

    /** Cycles in a row that failed as a whole, such as when the database cannot be reached. */
    int failedCycles() {
        return this.failedCycles;
    }

    /** The {@link Error} the last cycle failed with, if it failed with one and no cycle has completed since. */
    @Nullable
    Problem cycleError() {
        return this.cycleError;
    }

    /** The topics whose sends fail as unavailable now, by name. */
    Map<String, UnavailableTopics.Outage> unavailableTopics() {
        return this.unavailableTopics.current();
    }

    /** When a cycle last could not record its failed sends, and why; none when no cycle ever failed to. */
    @Nullable
    Problem failuresNotRecorded() {
        return this.failuresNotRecorded;
    }

    /** Cycles that completed with failed sends and recorded them, since the last one that could not. */
    int cyclesSinceFailuresNotRecorded() {
        return this.cyclesSinceFailuresNotRecorded;
    }

    /**
     * Something that keeps the relay from making progress.
     *
     * @param at when it was reported
     * @param error what was reported
     */
    record Problem(Instant at, String error) {}
}
