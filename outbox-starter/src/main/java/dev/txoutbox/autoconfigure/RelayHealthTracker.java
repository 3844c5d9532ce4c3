package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Remembers what the health indicator reports of the relay: its last error, when it last published, and how many
 * cycles in a row sent records without getting any acknowledged (the broker is unreachable, or refuses all).
 */
final class RelayHealthTracker implements OutboxRelayListener {

    private volatile @Nullable String lastError;

    private volatile @Nullable Instant lastErrorAt;

    private volatile @Nullable Instant lastPublishedAt;

    private volatile int failingCycles;

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        this.lastPublishedAt = acknowledgedAt;
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, boolean permanent) {
        error(OutboxMetrics.reason(error) + ": " + error.getMessage() + " (event " + record.eventId() + ")");
    }

    @Override
    public void cycleCompleted(OutboxRelay.CycleResult result) {
        if (result.published() > 0) {
            this.failingCycles = 0;
        } else if (result.failed() > 0) {
            this.failingCycles++;
        }
    }

    @Override
    public void cycleFailed(Exception error) {
        this.failingCycles++;
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

    int failingCycles() {
        return this.failingCycles;
    }
}
