package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.core.ProducerFactory;

/**
 * The configuration the relay's Kafka producer runs with: the application's own producer configuration (its
 * {@link ProducerFactory}, which has {@code spring.kafka.*} with service connections and SSL bundles applied; without
 * one, {@code spring.kafka.*} alone), with {@code outbox.serialization.key-serializer} and its properties when it is
 * set, then {@code outbox.relay.producer.*} over it. The writer's record size limit
 * ({@code dev.txoutbox.writer.MaxRecordSizeResolver}) reads {@code max.request.size} in the same order, so that it
 * follows the relay whether or not the relay runs in this application.
 */
final class RelayProducerConfiguration {

    private RelayProducerConfiguration() {}

    /** The relay producer's configuration. */
    static Map<String, Object> merge(
            @Nullable ProducerFactory<?, ?> applicationFactory,
            @Nullable KafkaProperties kafka,
            OutboxProperties properties) {
        Map<String, Object> producer = new HashMap<>(base(applicationFactory, kafka));
        OutboxSerializationProperties serialization = properties.getSerialization();
        if (serialization.getKeySerializer() != null) {
            // The key serializer runs in the relay's producer, which configures it with the producer's properties.
            producer.putAll(serialization.getProperties());
            producer.put(KafkaRecordPublisher.KEY_SERIALIZER_CONFIG, serialization.getKeySerializer());
        }
        producer.putAll(properties.getRelay().getProducer());
        return producer;
    }

    private static Map<String, Object> base(
            @Nullable ProducerFactory<?, ?> applicationFactory, @Nullable KafkaProperties kafka) {
        if (applicationFactory != null) {
            return applicationFactory.getConfigurationProperties();
        }
        return kafka != null ? kafka.buildProducerProperties() : Map.of();
    }
}
