package dev.txoutbox;

/**
 * Turns an event's payload into the bytes of the Kafka record's value. A bean of this type replaces the default,
 * which sends {@code String} (as UTF-8) and {@code byte[]} as they are and everything else as JSON through the
 * application's Jackson mapper.
 */
@FunctionalInterface
public interface OutboxPayloadSerializer {

    /**
     * Serializes a payload that is not {@code null}.
     *
     * @throws RuntimeException when the payload cannot be serialized; the writer reports it with the event's origin
     */
    byte[] serialize(Object payload);
}
