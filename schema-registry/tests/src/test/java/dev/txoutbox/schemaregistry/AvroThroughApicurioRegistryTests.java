package dev.txoutbox.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.OutboxException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Avro events serialized by Apicurio Registry's serializer when they are written, published by the relay and read
 * back with the registry's deserializer; a schema change the registry refuses fails the business transaction.
 */
@TestPropertySource(properties = {"outbox.serialization.properties.apicurio.registry.headers.enabled=false"})
class AvroThroughApicurioRegistryTests extends OrderApplicationTests {

    @Test
    void anAvroEventWrittenByAnAnnotatedMethodIsReadBackWithTheRegistrysDeserializer() {
        this.orders.place("order-1", 4200, Servers.ORDER_PLACED_V1);

        ConsumerRecord<Object, GenericRecord> record = Servers.read(
                        this.topic, Set.of("order-1"), StringDeserializer.class)
                .get("order-1");

        assertThat(record.value().getSchema()).isEqualTo(Servers.ORDER_PLACED_V1);
        assertThat(record.key()).isEqualTo("order-1");
        assertThat(record.value().get("id")).hasToString("order-1");
        assertThat(record.value().get("amount")).isEqualTo(4200L);
        assertThat(new String(record.headers().lastHeader("outbox-event-type").value(), StandardCharsets.UTF_8))
                .isEqualTo("OrderPlaced");
    }

    @Test
    void anIncompatibleSchemaChangeFailsTheBusinessTransactionWithTheRegistrysMessageAndLosesNothing() {
        this.orders.place("order-10", 100, Servers.ORDER_PLACED_V1);
        ApicurioRegistryServer.shared().requireCompatibility("BACKWARD");

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> this.orders.place("order-11", 110, Servers.ORDER_PLACED_V2_INCOMPATIBLE))
                .withMessageContaining("OrderService.place(..)")
                .withMessageContaining("event OrderPlaced to topic '" + this.topic + "'")
                .withMessageContaining("AvroKafkaSerializer")
                .withMessageContaining("Incompatible artifact: " + this.topic + "-value [AVRO]")
                .withMessageContaining("currency at /fields/2")
                .withMessageContaining("compatibility rule");
        assertThat(this.orders.exists("order-11")).isFalse();
        assertThat(this.orders.outboxRows("order-11")).isZero();

        this.orders.place("order-12", 120, Servers.ORDER_PLACED_V1);

        Map<String, ConsumerRecord<Object, GenericRecord>> read =
                Servers.read(this.topic, Set.of("order-10", "order-12"), StringDeserializer.class);
        assertThat(read).doesNotContainKey("order-11");
        assertThat(read.get("order-10").value().get("amount")).isEqualTo(100L);
        assertThat(read.get("order-12").value().get("amount")).isEqualTo(120L);
        assertThat(this.orders.exists("order-10")).isTrue();
        assertThat(this.orders.exists("order-12")).isTrue();
    }
}
