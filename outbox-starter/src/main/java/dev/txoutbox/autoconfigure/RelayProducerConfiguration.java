package dev.txoutbox.autoconfigure;

import dev.txoutbox.writer.MaxRecordSize;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.util.unit.DataSize;

/**
 * The configuration the relay's Kafka producer runs with, in one place, so that the writer's record size limit follows
 * the very {@code max.request.size} the relay sends with, whether or not the relay runs in this application: the
 * application's own producer configuration (its {@link ProducerFactory}, which has {@code spring.kafka.*} with
 * service connections and SSL bundles applied; without one, {@code spring.kafka.*} alone), then
 * {@code outbox.relay.producer.*} over it.
 */
final class RelayProducerConfiguration {

    static final String MAX_REQUEST_SIZE = "max.request.size";

    private RelayProducerConfiguration() {}

    /** The relay producer's configuration. */
    static Map<String, Object> merge(
            @Nullable ProducerFactory<?, ?> applicationFactory,
            @Nullable KafkaProperties kafka,
            OutboxProperties properties) {
        Map<String, Object> producer = new HashMap<>(base(applicationFactory, kafka));
        producer.putAll(properties.getRelay().getProducer());
        return producer;
    }

    /**
     * The largest record the relay can publish: {@code outbox.max-record-size}, else the {@code max.request.size} of
     * the relay producer's configuration, else Kafka's default. The limit names the setting it comes from.
     */
    static MaxRecordSize maxRecordSize(
            @Nullable ProducerFactory<?, ?> applicationFactory,
            @Nullable KafkaProperties kafka,
            OutboxProperties properties) {
        DataSize configured = properties.getMaxRecordSize();
        if (configured != null) {
            InvalidOutboxProperties.require(
                    configured.toBytes() > 0,
                    "outbox.max-record-size",
                    configured,
                    "It must be a positive size such as 1MB.");
            return new MaxRecordSize(configured.toBytes(), "outbox.max-record-size");
        }
        String relayProducer = properties.getRelay().getProducer().get(MAX_REQUEST_SIZE);
        if (relayProducer != null) {
            return maxRequestSize(relayProducer, "outbox.relay.producer." + MAX_REQUEST_SIZE);
        }
        Object application = base(applicationFactory, kafka).get(MAX_REQUEST_SIZE);
        if (application != null) {
            return maxRequestSize(application, applicationSetting(application, applicationFactory, kafka));
        }
        return MaxRecordSize.KAFKA_DEFAULT;
    }

    private static Map<String, Object> base(
            @Nullable ProducerFactory<?, ?> applicationFactory, @Nullable KafkaProperties kafka) {
        if (applicationFactory != null) {
            return applicationFactory.getConfigurationProperties();
        }
        return kafka != null ? kafka.buildProducerProperties() : Map.of();
    }

    /** The property the application's max.request.size comes from, as precisely as it can be told. */
    private static String applicationSetting(
            Object value, @Nullable ProducerFactory<?, ?> applicationFactory, @Nullable KafkaProperties kafka) {
        if (kafka != null) {
            String text = String.valueOf(value).trim();
            if (text.equals(trimmed(kafka.getProducer().getProperties().get(MAX_REQUEST_SIZE)))) {
                return "spring.kafka.producer.properties." + MAX_REQUEST_SIZE;
            }
            if (text.equals(trimmed(kafka.getProperties().get(MAX_REQUEST_SIZE)))) {
                return "spring.kafka.properties." + MAX_REQUEST_SIZE;
            }
        }
        return applicationFactory != null
                ? MAX_REQUEST_SIZE + " of the application's ProducerFactory"
                : "spring.kafka.* (" + MAX_REQUEST_SIZE + ")";
    }

    private static @Nullable String trimmed(@Nullable String value) {
        return value != null ? value.trim() : null;
    }

    private static MaxRecordSize maxRequestSize(Object value, String setting) {
        long bytes;
        try {
            bytes = value instanceof Number number
                    ? number.longValue()
                    : Long.parseLong(Objects.toString(value).trim());
        } catch (NumberFormatException ex) {
            bytes = -1;
        }
        InvalidOutboxProperties.require(
                bytes > 0, setting, value, "It must be a positive number of bytes, such as 1048576.");
        return new MaxRecordSize(bytes, setting);
    }
}
