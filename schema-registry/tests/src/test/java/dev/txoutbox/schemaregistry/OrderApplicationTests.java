package dev.txoutbox.schemaregistry;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * The order application on embedded PostgreSQL and Kafka and a real Apicurio Registry, with values through the
 * registry's Avro serializer and a topic of its own per application context. Subclasses add their properties with
 * {@link TestPropertySource}.
 */
@SpringBootTest(classes = OrderApplication.class)
@TestPropertySource(
        properties = {
            "outbox.serialization.value-serializer=io.apicurio.registry.serde.avro.AvroKafkaSerializer",
            "outbox.serialization.properties.apicurio.registry.auto-register=true",
            "spring.sql.init.mode=always"
        })
abstract class OrderApplicationTests {

    @Autowired
    protected OrderService orders;

    @Value("${test.topic}")
    protected String topic;

    @DynamicPropertySource
    static void servers(DynamicPropertyRegistry registry) {
        Servers.register(registry);
    }
}
