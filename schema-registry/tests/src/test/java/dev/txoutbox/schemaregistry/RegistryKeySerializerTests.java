package dev.txoutbox.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.OutboxException;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * A key serializer runs in the relay's producer, and once when the event is written: a key it refuses fails the
 * business transaction instead of the send. Apicurio Registry 2.4's Avro serializer takes records only, so it refuses
 * the outbox's text keys.
 */
@TestPropertySource(
        properties = {
            "outbox.serialization.key-serializer=io.apicurio.registry.serde.avro.AvroKafkaSerializer",
            "outbox.serialization.properties.apicurio.registry.headers.enabled=false"
        })
class RegistryKeySerializerTests extends OrderApplicationTests {

    @Test
    void aKeyTheRelaysKeySerializerWouldRefuseFailsTheBusinessTransactionWhenWritten() {
        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> this.orders.place("order-k", 7, Servers.ORDER_PLACED_V1))
                .withMessageContaining("OrderService.place(..)")
                .withMessageContaining("the key 'order-k' of event OrderPlaced to topic '" + this.topic + "'")
                .withMessageContaining("outbox.serialization.key-serializer")
                .withMessageContaining("Not a record");
        assertThat(this.orders.exists("order-k")).isFalse();
        assertThat(this.orders.outboxRows("order-k")).isZero();
    }
}
