package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Remembers what the health indicator reports of the relay: its last error, when it last published, how many cycles
 * in a row sent records and got none acknowledged (the broker is unreachable, or refuses everything), and how many
 * cycles in a row failed as a whole (the database).
 */
final class RelayHealthTracker implements OutboxRelayListener {

    private volatile @Nullable String lastError;

    private volatile @Nullable Instant lastErrorAt;

    private volatile @Nullable Instant lastPublishedAt;

    private volatile int unacknowledgedCycles;

    private volatile int failedCycles;

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        this.lastPublishedAt = acknowledgedAt;
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
        error(OutboxMetrics.reason(error) + ": " + error.getMessage() + " (event " + record.eventId() + ")");
    }

    @Override
    public synchronized void cycleCompleted(OutboxRelay.CycleResult result) {
        this.failedCycles = 0;
        if (result.published() > 0 || result.deadLettered() > 0) {
            // The broker answers: it acknowledged records, or refused some for good.
            this.unacknowledgedCycles = 0;
        } else if (result.failed() > 0) {
            this.unacknowledgedCycles++;
        }
    }

    @Override
    public synchronized void cycleFailed(Throwable error) {
        this.failedCycles++;
        error(OutboxMetrics.reason(error) + ": " + error.getMessage());
    }

    private void error(String text) {
        this.lastError = text;
        this.lastErrorAt = Instant.now();
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
}
