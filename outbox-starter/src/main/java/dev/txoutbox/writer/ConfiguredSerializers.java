package dev.txoutbox.writer;

import dev.txoutbox.autoconfigure.OutboxSerializationProperties;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;

/** The Kafka serializers that {@code outbox.serialization.*} names, created and configured as a producer would. */
final class ConfiguredSerializers {

    private ConfiguredSerializers() {}

    /**
     * The configuration a serializer is given: the application's producer properties ({@code spring.kafka.*}, with
     * {@code spring.kafka.properties.*} and {@code spring.kafka.producer.properties.*}), as spring-kafka would give a
     * producer's serializers, with {@code outbox.serialization.properties.*} over them.
     */
    static Map<String, Object> configuration(
            @Nullable KafkaProperties kafka, OutboxSerializationProperties serialization) {
        Map<String, Object> configuration = new HashMap<>(kafka != null ? kafka.buildProducerProperties() : Map.of());
        configuration.putAll(serialization.getProperties());
        return configuration;
    }

    /**
     * Creates a serializer of the class a property names and configures it.
     *
     * @throws InvalidConfigurationPropertyValueException when the class is not a Kafka serializer
     */
    static Serializer<?> create(Class<?> type, String property, Map<String, Object> configuration, boolean isKey) {
        if (!Serializer.class.isAssignableFrom(type)) {
            throw new InvalidConfigurationPropertyValueException(
                    property,
                    type.getName(),
                    "Not a Kafka serializer: name a class that implements "
                            + Serializer.class.getName()
                            + ", such as io.apicurio.registry.serde.avro.AvroKafkaSerializer.");
        }
        Serializer<?> serializer = (Serializer<?>) BeanUtils.instantiateClass(type);
        serializer.configure(configuration, isKey);
        return serializer;
    }
}
