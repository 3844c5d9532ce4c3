package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TableNameTests {

    @Test
    void acceptsALowerCaseIdentifier() {
        assertThat(new TableName("orders_outbox_2")).hasToString("orders_outbox_2");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "Outbox",
                "1outbox",
                "outbox; DROP TABLE orders",
                "public.outbox",
                "outbox-event",
                "order",
                "user"
            })
    void rejectsAnythingThatIsNotAPlainIdentifierAndSaysWhatWouldDo(String name) {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new TableName(name))
                .withMessageContaining("'" + name + "'")
                .withMessageContaining("outbox_event");
    }

    @Test
    void anOutboxTableNameLeavesRoomForTheNamesOfItsTables() {
        String longest = "o".repeat(TableName.MAX_OUTBOX_TABLE_LENGTH);

        assertThat(TableName.outboxTable(longest).deadLetters().value()).hasSize(63);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> TableName.outboxTable(longest + "o"))
                .withMessageContaining("'" + longest + "o'")
                .withMessageContaining("at most 51")
                .withMessageContaining("_dead_letter");
    }
}
