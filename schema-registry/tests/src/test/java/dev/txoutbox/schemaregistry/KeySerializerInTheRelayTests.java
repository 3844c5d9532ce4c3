package dev.txoutbox.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * The key serializer runs in the relay's producer, configured with {@code outbox.serialization.properties.*}: here
 * Kafka's own string serializer, told to write UTF-16, next to Avro values through the registry.
 */
@TestPropertySource(
        properties = {
            "outbox.serialization.key-serializer=org.apache.kafka.common.serialization.StringSerializer",
            "outbox.serialization.properties.key.serializer.encoding=UTF-16",
            "outbox.serialization.properties.apicurio.registry.headers.enabled=false"
        })
class KeySerializerInTheRelayTests extends OrderApplicationTests {

    @Test
    void keysGoOutAsTheKeySerializerWritesThemWithItsProperties() {
        this.orders.place("order-u", 9, Servers.ORDER_PLACED_V1);

        Map<String, ConsumerRecord<Object, GenericRecord>> read =
                Servers.read(this.topic, Set.of("order-u"), Utf16Keys.class);

        assertThat(read.get("order-u").value().get("amount")).isEqualTo(9L);
    }

    /** Reads keys as UTF-16, as the relay's key serializer was told to write them. */
    public static final class Utf16Keys extends StringDeserializer {

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            super.configure(Map.of("key.deserializer.encoding", "UTF-16"), isKey);
        }
    }
}
