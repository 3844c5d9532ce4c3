package dev.txoutbox.writer;

import dev.txoutbox.autoconfigure.OutboxProperties;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.util.unit.DataSize;

/**
 * Works out the largest record the relay can publish, which the writer enforces: {@code outbox.max-record-size},
 * else the {@code max.request.size} the relay's producer runs with, else Kafka's default. The relay's producer
 * configuration is the application's own (its {@link ProducerFactory}; without one, {@code spring.kafka.*}) with
 * {@code outbox.relay.producer.*} over it, as the relay's auto-configuration builds it, so that the limit follows the
 * relay whether or not the relay runs in this application. The limit names the setting it comes from; an invalid one
 * fails as Spring Boot's {@link InvalidConfigurationPropertyValueException}, in the shape of every other invalid
 * {@code outbox.*} value.
 */
final class MaxRecordSizeResolver {

    private static final String MAX_REQUEST_SIZE = "max.request.size";

    private MaxRecordSizeResolver() {}

    static MaxRecordSize resolve(
            @Nullable ProducerFactory<?, ?> applicationFactory,
            @Nullable KafkaProperties kafka,
            OutboxProperties properties) {
        DataSize configured = properties.getMaxRecordSize();
        if (configured != null) {
            if (configured.toBytes() <= 0) {
                throw new InvalidConfigurationPropertyValueException(
                        "outbox.max-record-size", configured, "It must be a positive size such as 1MB.");
            }
            return new MaxRecordSize(configured.toBytes(), "outbox.max-record-size");
        }
        String relayProducer = properties.getRelay().getProducer().get(MAX_REQUEST_SIZE);
        if (relayProducer != null) {
            return maxRequestSize(relayProducer, "outbox.relay.producer." + MAX_REQUEST_SIZE);
        }
        Object application = applicationProducer(applicationFactory, kafka).get(MAX_REQUEST_SIZE);
        if (application != null) {
            return maxRequestSize(application, applicationSetting(application, applicationFactory, kafka));
        }
        return MaxRecordSize.KAFKA_DEFAULT;
    }

    private static Map<String, Object> applicationProducer(
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
        if (bytes <= 0) {
            throw new InvalidConfigurationPropertyValueException(
                    setting, value, "It must be a positive number of bytes, such as 1048576.");
        }
        return new MaxRecordSize(bytes, setting);
    }
}
