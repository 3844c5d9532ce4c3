package dev.txoutbox.store;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A row of the outbox table, as the relay claimed it.
 *
 * @param id the row's id: records of one key are published in id order
 * @param eventId the unique event id, sent as the {@code outbox-event-id} header
 * @param topic the Kafka topic
 * @param key the Kafka record key, or {@code null}
 * @param eventType the event type, sent as the {@code outbox-event-type} header
 * @param payload the record's value, or {@code null} for a tombstone
 * @param headers extra Kafka headers
 * @param createdAt when the row was written; the Kafka record's timestamp
 * @param attempts how many sends of this row have failed so far
 * @param writtenAt when the row was written, on this JVM's clock (taken from the row's age when it was claimed, so
 *     that a difference between the database's clock and this one does not enter latencies)
 */
public record OutboxRecord(
        long id,
        UUID eventId,
        String topic,
        @Nullable String key,
        String eventType,
        byte @Nullable [] payload,
        Map<String, String> headers,
        Instant createdAt,
        int attempts,
        Instant writtenAt) {

    @Override
    public String toString() {
        return "OutboxRecord[id=%d, eventId=%s, topic=%s, key=%s, eventType=%s, attempts=%d]"
                .formatted(id, eventId, topic, key, eventType, attempts);
    }
}
