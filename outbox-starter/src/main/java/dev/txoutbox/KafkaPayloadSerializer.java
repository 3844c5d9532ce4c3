package dev.txoutbox;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/** Serializes payloads with a Kafka value serializer, as a producer would call it. */
final class KafkaPayloadSerializer implements OutboxPayloadSerializer, AutoCloseable {

    private final Serializer<Object> serializer;

    @SuppressWarnings("unchecked")
    KafkaPayloadSerializer(Serializer<?> serializer) {
        // The payload's type is the application's to match with the serializer, as with a producer's value type.
        this.serializer = (Serializer<Object>) serializer;
    }

    @Override
    public byte[] serialize(String topic, Headers headers, Object payload) {
        return this.serializer.serialize(topic, headers, payload);
    }

    @Override
    public void close() {
        this.serializer.close();
    }

    @Override
    public String toString() {
        return this.serializer.getClass().getName();
    }
}
