package dev.txoutbox.store;

import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A row of the outbox table as {@link OutboxStore#rows(long, int)} reads it: an event that is written and not yet
 * published (or, inside the transaction that wrote it, not yet committed).
 *
 * @param id the row's id: rows of one key are published in id order
 * @param eventId the unique event id, sent as the {@code outbox-event-id} header
 * @param topic the Kafka topic
 * @param key the Kafka record key, or {@code null}
 * @param eventType the event type, sent as the {@code outbox-event-type} header
 * @param payload the record's value, or {@code null} for a tombstone
 * @param headers the event's own Kafka headers
 * @param attempts how many sends of this row have failed so far
 * @param lastError why the last send failed, or {@code null} when none has
 */
public record OutboxRow(
        long id,
        UUID eventId,
        String topic,
        @Nullable String key,
        String eventType,
        byte @Nullable [] payload,
        Map<String, String> headers,
        int attempts,
        @Nullable String lastError) {

    @Override
    public String toString() {
        return "OutboxRow[id=%d, eventId=%s, topic=%s, key=%s, eventType=%s, attempts=%d, lastError=%s]"
                .formatted(id, eventId, topic, key, eventType, attempts, lastError);
    }
}
