package dev.txoutbox.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How events' values and keys become bytes ({@code outbox.serialization.*}): Kafka serializers, such as a schema
 * registry's, configured as spring-kafka configures a producer's.
 */
public class OutboxSerializationProperties {

    /**
     * Kafka Serializer class for events' values, run when an event is written, in its business transaction: the
     * bytes are stored in the outbox row and the relay sends them as they are, and a value the serializer (or its
     * schema registry) refuses fails the transaction. Headers it adds are stored with the event; their values must be
     * UTF-8 text. Unset, a String is sent as UTF-8 and other payloads as JSON. A byte[] payload is always sent as it
     * is.
     */
    private @Nullable Class<?> valueSerializer;

    /**
     * Kafka Serializer class for events' keys, which are text in the outbox row (the unit of ordering). It runs in
     * the relay's producer when a record is sent, and once when the event is written, so that a key it refuses fails
     * the business transaction. Unset, keys are sent as UTF-8.
     */
    private @Nullable Class<?> keySerializer;

    /**
     * Properties passed to the serializers' configure method, over spring.kafka.properties.* and
     * spring.kafka.producer.properties.*, such as apicurio.registry.url or schema.registry.url.
     */
    private Map<String, String> properties = new LinkedHashMap<>();

    public @Nullable Class<?> getValueSerializer() {
        return this.valueSerializer;
    }

    public void setValueSerializer(@Nullable Class<?> valueSerializer) {
        this.valueSerializer = valueSerializer;
    }

    public @Nullable Class<?> getKeySerializer() {
        return this.keySerializer;
    }

    public void setKeySerializer(@Nullable Class<?> keySerializer) {
        this.keySerializer = keySerializer;
    }

    public Map<String, String> getProperties() {
        return this.properties;
    }

    public void setProperties(Map<String, String> properties) {
        this.properties = properties;
    }
}
