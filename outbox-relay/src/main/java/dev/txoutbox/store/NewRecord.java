package dev.txoutbox.store;

import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * An event to be written to the outbox table, already serialized.
 *
 * @param eventId the unique id the record carries as the {@code outbox-event-id} header
 * @param topic the Kafka topic
 * @param key the Kafka record key and unit of ordering, or {@code null} for an event without a key
 * @param eventType the event's type, sent as the {@code outbox-event-type} header
 * @param payload the record's value, or {@code null} for a tombstone
 * @param headers extra Kafka headers
 */
public record NewRecord(
        UUID eventId,
        String topic,
        @Nullable String key,
        String eventType,
        byte @Nullable [] payload,
        Map<String, String> headers) {

    public NewRecord {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(eventType, "eventType");
        headers = Map.copyOf(headers);
    }
}
