package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners of one relay, told as one: every call reaches every listener, whatever the others throw. A listener
 * that throws (an {@link Error} included) is logged once and otherwise ignored: the rows' fate is decided by then, so
 * a broken listener must neither fail the cycle nor stop the relay, nor flood the log with a line per record.
 */
final class RelayListeners implements OutboxRelayListener {

    /** The relay's logger: these lines are the relay's. */
    private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

    private final List<OutboxRelayListener> listeners;

    private final String relayName;

    private final Set<OutboxRelayListener> failed = ConcurrentHashMap.newKeySet();

    RelayListeners(List<? extends OutboxRelayListener> listeners, String relayName) {
        this.listeners = List.copyOf(listeners);
        this.relayName = relayName;
    }

    @Override
    public void sent(OutboxRecord record, Instant acknowledgedAt) {
        tellEach(listener -> listener.sent(record, acknowledgedAt));
    }

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        tellEach(listener -> listener.published(record, acknowledgedAt));
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
        tellEach(listener -> listener.sendFailed(record, error, kind));
    }

    @Override
    public void deadLettered(OutboxRecord record, String error) {
        tellEach(listener -> listener.deadLettered(record, error));
    }

    @Override
    public void cycleCompleted(OutboxRelay.CycleResult result) {
        tellEach(listener -> listener.cycleCompleted(result));
    }

    @Override
    public void cycleFailed(Throwable error) {
        tellEach(listener -> listener.cycleFailed(error));
    }

    @Override
    public void failuresNotRecorded(Throwable error) {
        tellEach(listener -> listener.failuresNotRecorded(error));
    }

    private void tellEach(Consumer<OutboxRelayListener> call) {
        for (OutboxRelayListener listener : this.listeners) {
            try {
                call.accept(listener);
            } catch (Throwable ex) {
                failed(listener, ex);
            }
        }
    }

    private void failed(OutboxRelayListener listener, Throwable ex) {
        if (this.failed.add(listener)) {
            log.warn(
                    "Outbox relay {}: listener {} failed, and its further failures are not logged: {}",
                    this.relayName,
                    listener,
                    ex.toString(),
                    ex);
        }
    }
}
