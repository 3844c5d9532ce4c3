package dev.txoutbox.schemaregistry;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.awaitility.Awaitility;
import org.springframework.test.context.DynamicPropertyRegistry;

/** The real servers of the tests, and the schemas and reader of their events. */
final class Servers {

    static final Schema ORDER_PLACED_V1 = new Schema.Parser().parse("""
                    {"type": "record", "name": "OrderPlaced", "namespace": "dev.txoutbox.schemaregistry", "fields": [
                      {"name": "id", "type": "string"},
                      {"name": "amount", "type": "long"}]}
                    """);

    /** A field without a default: data written with the first version cannot be read with it. */
    static final Schema ORDER_PLACED_V2_INCOMPATIBLE = new Schema.Parser().parse("""
                    {"type": "record", "name": "OrderPlaced", "namespace": "dev.txoutbox.schemaregistry", "fields": [
                      {"name": "id", "type": "string"},
                      {"name": "amount", "type": "long"},
                      {"name": "currency", "type": "string"}]}
                    """);

    private Servers() {}

    /**
     * Embedded PostgreSQL and Kafka, and the registry's URL set once in {@code spring.kafka.properties.*}, where
     * spring-kafka users put it for their own serializers; and a new topic as {@code test.topic}.
     */
    static void register(DynamicPropertyRegistry registry) {
        String topic = EmbeddedInfrastructure.newTopic("orders", 1);
        registry.add("spring.datasource.url", EmbeddedInfrastructure::newDatabaseUrl);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add(
                "spring.kafka.properties.apicurio.registry.url",
                () -> ApicurioRegistryServer.shared().apiUrl());
        registry.add("test.topic", () -> topic);
    }

    /**
     * Reads the topic from its start with the registry's deserializer for values, and the given one for keys, until
     * the given keys (as text) have arrived.
     */
    static Map<String, ConsumerRecord<Object, GenericRecord>> read(
            String topic, Set<String> keys, Class<?> keyDeserializer) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                EmbeddedInfrastructure.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                keyDeserializer,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                AvroKafkaDeserializer.class,
                "apicurio.registry.url",
                ApicurioRegistryServer.shared().apiUrl(),
                "apicurio.registry.headers.enabled",
                "false");
        Map<String, ConsumerRecord<Object, GenericRecord>> read = new HashMap<>();
        try (KafkaConsumer<Object, GenericRecord> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            Awaitility.await("records of " + keys + " on " + topic)
                    .atMost(Duration.ofMinutes(1))
                    .until(() -> {
                        consumer.poll(Duration.ofMillis(200))
                                .forEach(record -> read.put(String.valueOf(record.key()), record));
                        return read.keySet().containsAll(keys);
                    });
        }
        return read;
    }
}
