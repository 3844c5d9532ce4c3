package dev.txoutbox.schemaregistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.OutboxException;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Apicurio's serializers put the schema's id in a binary header by default, which the outbox cannot keep as text:
 * the write fails saying which setting puts the id in the value.
 */
@SpringBootTest(
        classes = OrderApplication.class,
        properties = {
            "outbox.serialization.value-serializer=io.apicurio.registry.serde.avro.AvroKafkaSerializer",
            "outbox.serialization.properties.apicurio.registry.auto-register=true",
            "spring.sql.init.mode=always"
        })
class RegistryIdsInHeadersTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("orders-headers", 1);

    @DynamicPropertySource
    static void servers(DynamicPropertyRegistry registry) {
        Servers.register(registry, TOPIC);
    }

    @Autowired
    private OrderService orders;

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
