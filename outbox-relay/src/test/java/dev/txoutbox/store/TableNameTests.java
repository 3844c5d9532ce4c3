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
}
