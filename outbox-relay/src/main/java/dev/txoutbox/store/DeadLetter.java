package dev.txoutbox.store;

import java.time.Instant;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * An event that the relay gave up on: it exhausted its attempts, or the broker can never accept it.
 *
 * @param id the id it had in the outbox, which it takes again when it is requeued
 * @param eventId the event's unique id
 * @param topic the Kafka topic
 * @param key the record key, or {@code null}
 * @param eventType the event type
 * @param attempts how many sends failed
 * @param lastError why the last send failed
 * @param createdAt when the event was written
 * @param deadLetteredAt when the relay gave up on it
 */
public record DeadLetter(
        long id,
        UUID eventId,
        String topic,
        @Nullable String key,
        String eventType,
        int attempts,
        String lastError,
        Instant createdAt,
        Instant deadLetteredAt) {}
