package dev.txoutbox;

import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Writes events to the outbox in the current transaction, for code that cannot use {@link OutboxEvent}. The same
 * rules hold: the event is published if and only if the transaction commits, and a call with no active transaction
 * fails with an {@link OutboxException} and writes nothing.
 */
public interface Outbox {

    /**
     * Writes an event whose type is the payload's simple class name.
     *
     * @param topic the Kafka topic
     * @param key the record key, or {@code null}
     * @param payload the payload, or {@code null} for a tombstone
     * @return the event id, which the record carries as the {@code outbox-event-id} header
     */
    UUID write(String topic, @Nullable String key, @Nullable Object payload);

    /**
     * Writes an event.
     *
     * @return the event id, which the record carries as the {@code outbox-event-id} header
     */
    UUID write(OutboxMessage message);
}
