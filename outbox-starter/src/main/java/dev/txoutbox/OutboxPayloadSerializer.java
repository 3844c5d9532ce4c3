package dev.txoutbox;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Turns an event's payload into the bytes of the Kafka record's value, when the event is written: the bytes are
 * stored in the outbox row and the relay sends them as they are. A failure fails the business transaction, so that an
 * event the registry or the serializer refuses is never committed. A bean of this type replaces the default, which
 * sends a {@code String} as UTF-8 and everything else as JSON through the application's Jackson mapper; a
 * {@code byte[]} payload is taken as the value's bytes and never reaches a serializer.
 *
 * <p>To use a Kafka {@link Serializer} (a schema registry's, for instance), set
 * {@code outbox.serialization.value-serializer}, or declare a bean made by {@link #of(Serializer)}.
 */
@FunctionalInterface
public interface OutboxPayloadSerializer {

    /**
     * Serializes a payload that is not {@code null}, as a producer's value serializer would for a record to the
     * topic.
     *
     * @param topic the event's topic
     * @param headers the event's headers (its own and the trace context); headers the serializer adds or changes are
     *     stored with the event and sent with its record, and their values must be UTF-8 text
     * @param payload the payload
     * @throws RuntimeException when the payload cannot be serialized; the writer reports it with the event's origin
     */
    byte[] serialize(String topic, Headers headers, Object payload);

    /**
     * A payload serializer that hands payloads to a Kafka serializer configured by the caller ({@code configure}
     * called, for a value), as a producer would. The payload serializer closes the Kafka serializer when it is closed,
     * which Spring does for a bean.
     */
    static OutboxPayloadSerializer of(Serializer<?> serializer) {
        return new KafkaPayloadSerializer(serializer);
    }
}
