package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;

import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** How a relay tells its listeners what it did. */
class RelayListenersTests {

    private final OutboxRecord record = new OutboxRecord(
            1, UUID.randomUUID(), "orders", "42", "TestEvent", null, Map.of(), Instant.now(), 0, Instant.now());

    @Test
    void everyListenerHearsOfEachEventAlsoAfterAnEarlierOneThrew() {
        List<String> heard = new ArrayList<>();
        OutboxRelayListener throwing = new OutboxRelayListener() {
            @Override
            public void published(OutboxRecord record, Instant acknowledgedAt) {
                throw new IllegalStateException("broken listener");
            }

            @Override
            public void cycleFailed(Throwable error) {
                throw new AssertionError("broken listener");
            }
        };
        OutboxRelayListener recording = new OutboxRelayListener() {
            @Override
            public void published(OutboxRecord record, Instant acknowledgedAt) {
                heard.add("published " + record.id());
            }

            @Override
            public void cycleFailed(Throwable error) {
                heard.add("cycle failed: " + error.getMessage());
            }
        };
        RelayListeners listeners = new RelayListeners(List.of(throwing, recording), "test-relay");

        assertThatNoException().isThrownBy(() -> {
            listeners.published(this.record, Instant.now());
            listeners.published(this.record, Instant.now());
            listeners.cycleFailed(new IllegalStateException("database gone"));
        });

        assertThat(heard).containsExactly("published 1", "published 1", "cycle failed: database gone");
    }
}
