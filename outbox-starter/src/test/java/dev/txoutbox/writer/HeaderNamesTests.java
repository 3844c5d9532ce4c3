package dev.txoutbox.writer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.internal.EventRules;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The header names users read from {@link OutboxHeaders} are the ones the relay sends, whose size the writers count,
 * and which the writers reserve for the outbox: they come from {@link EventRules} in the relay's module.
 */
class HeaderNamesTests {

    @Test
    void theHeadersUsersReadAreTheOnesTheRelaySendsAndTheWritersReserve() {
        assertThat(OutboxHeaders.EVENT_ID).isEqualTo(EventRules.EVENT_ID_HEADER);
        assertThat(OutboxHeaders.EVENT_TYPE).isEqualTo(EventRules.EVENT_TYPE_HEADER);
        assertThat(EventRules.violation("writer", "orders", "k", false, List.of(OutboxHeaders.EVENT_ID)))
                .as("a header the outbox sets is refused as an event's own")
                .contains("belong to the outbox");
    }
}
