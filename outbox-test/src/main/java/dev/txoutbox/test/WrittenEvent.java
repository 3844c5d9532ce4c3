package dev.txoutbox.test;

import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxRow;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.assertj.core.api.AssertProvider;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * An event that was written to the outbox, as the Kafka record it becomes: topic, key, type, headers and payload.
 * {@code assertThat(event)} gives a {@link WrittenEventAssert}.
 */
public final class WrittenEvent implements AssertProvider<WrittenEventAssert> {

    /** How much of a payload {@link #toString()} shows. */
    private static final int SHOWN_PAYLOAD = 200;

    private final long id;

    private final UUID eventId;

    private final String topic;

    private final @Nullable String key;

    private final String type;

    private final Map<String, String> headers;

    private final byte @Nullable [] payload;

    private final JsonMapper json;

    private WrittenEvent(
            long id,
            UUID eventId,
            String topic,
            @Nullable String key,
            String type,
            Map<String, String> headers,
            byte @Nullable [] payload,
            JsonMapper json) {
        this.id = id;
        this.eventId = eventId;
        this.topic = topic;
        this.key = key;
        this.type = type;
        this.headers = Map.copyOf(headers);
        this.payload = payload;
        this.json = json;
    }

    static WrittenEvent of(OutboxRow row, JsonMapper json) {
        return new WrittenEvent(
                row.id(), row.eventId(), row.topic(), row.key(), row.eventType(), row.headers(), row.payload(), json);
    }

    static WrittenEvent of(OutboxRecord record, JsonMapper json) {
        return new WrittenEvent(
                record.id(),
                record.eventId(),
                record.topic(),
                record.key(),
                record.eventType(),
                record.headers(),
                record.payload(),
                json);
    }

    /** The outbox row's id: events are published in id order per topic and key. */
    long id() {
        return this.id;
    }

    /** The event's unique id, the record's {@code outbox-event-id} header. */
    public UUID eventId() {
        return this.eventId;
    }

    /** The Kafka topic. */
    public String topic() {
        return this.topic;
    }

    /** The record key, or {@code null} for an event without one. */
    public @Nullable String key() {
        return this.key;
    }

    /** The event type, the record's {@code outbox-event-type} header. */
    public String type() {
        return this.type;
    }

    /** The event's own headers (and the writer's trace context, when there is one). */
    public Map<String, String> headers() {
        return this.headers;
    }

    /** Whether the event is a tombstone: a record whose value is null. */
    public boolean isTombstone() {
        return this.payload == null;
    }

    /** The payload as the record's value carries it, or {@code null} for a tombstone. */
    public byte @Nullable [] payloadBytes() {
        return (this.payload != null) ? this.payload.clone() : null;
    }

    /** The payload as UTF-8 text (such as its JSON), or {@code null} for a tombstone. */
    public @Nullable String payloadAsString() {
        return (this.payload != null) ? new String(this.payload, StandardCharsets.UTF_8) : null;
    }

    /**
     * The payload as an object of the given type: read from JSON with the application's {@code JsonMapper} (the one
     * the writer used), or as it is for {@code String} and {@code byte[]}.
     *
     * @return the payload, or {@code null} for a tombstone
     * @throws IllegalStateException when the payload cannot be read as that type
     */
    @SuppressWarnings("unchecked")
    public <T> @Nullable T payload(Class<T> type) {
        if (this.payload == null) {
            return null;
        }
        if (type == byte[].class) {
            return (T) this.payload.clone();
        }
        if (type == String.class) {
            return (T) new String(this.payload, StandardCharsets.UTF_8);
        }
        try {
            return this.json.readValue(this.payload, type);
        } catch (JacksonException ex) {
            throw new IllegalStateException(
                    "The payload of %s cannot be read as a %s: %s. Name the class it was written from, or read it with payloadAsString()."
                            .formatted(this, type.getName(), ex.getOriginalMessage()),
                    ex);
        }
    }

    /**
     * The payload as read by a deserializer of the test's choice: for payloads that are not JSON, such as those of a
     * schema registry's serializer ({@code bytes -> deserializer.deserialize(event.topic(), bytes)}).
     *
     * @return what the deserializer returned, or {@code null} for a tombstone
     */
    public <T> @Nullable T payload(Function<byte[], T> deserializer) {
        return (this.payload != null) ? deserializer.apply(this.payload.clone()) : null;
    }

    @Override
    public WrittenEventAssert assertThat() {
        return new WrittenEventAssert(this);
    }

    @Override
    public String toString() {
        String shown = payloadAsString();
        if (shown != null && shown.length() > SHOWN_PAYLOAD) {
            shown = shown.substring(0, SHOWN_PAYLOAD) + "...";
        }
        return "%s to '%s' %s(event %s%s, payload %s)"
                .formatted(
                        this.type,
                        this.topic,
                        (this.key != null) ? "with key '" + this.key + "' " : "without key ",
                        this.eventId,
                        this.headers.isEmpty() ? "" : ", headers " + this.headers,
                        (shown != null) ? shown : "null (a tombstone)");
    }
}
