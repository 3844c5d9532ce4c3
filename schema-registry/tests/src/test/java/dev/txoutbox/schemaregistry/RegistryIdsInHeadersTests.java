package dev.txoutbox.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.OutboxException;
import org.junit.jupiter.api.Test;

/**
 * Apicurio's serializers put the schema's id in a binary header by default, which the outbox cannot keep as text:
 * the write fails saying which setting puts the id in the value.
 */
class RegistryIdsInHeadersTests extends OrderApplicationTests {

    @Test
    void aSchemaIdInABinaryHeaderFailsTheWriteNamingTheSettingThatPutsItInTheValue() {
        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> this.orders.place("order-h", 5, Servers.ORDER_PLACED_V1))
                .withMessageContaining("OrderService.place(..)")
                .withMessageContaining("added header 'apicurio.value.globalId'")
                .withMessageContaining("is binary, not UTF-8 text")
                .withMessageContaining("outbox.serialization.properties.apicurio.registry.headers.enabled=false");
        assertThat(this.orders.exists("order-h")).isFalse();
    }
}
