package dev.txoutbox;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An event for {@link Outbox#write(OutboxMessage)}.
 *
 * @param topic the Kafka topic
 * @param key the record key and unit of ordering, or {@code null} for none
 * @param payload the payload, or {@code null} for a tombstone; a {@code byte[]} is sent as it is, anything else
 *     through the {@link dev.txoutbox.OutboxPayloadSerializer} (by default a {@code String} as UTF-8, anything else
 *     as JSON)
 * @param type the event type, or {@code null} for the payload's simple class name
 * @param headers extra Kafka headers
 */
public record OutboxMessage(
        String topic,
        @Nullable String key,
        @Nullable Object payload,
        @Nullable String type,
        Map<String, String> headers) {

    public OutboxMessage {
        Objects.requireNonNull(topic, "topic");
        headers = Map.copyOf(headers);
    }

    /** Starts a message to a topic. */
    public static Builder to(String topic) {
        return new Builder(topic);
    }

    /** Builds an {@link OutboxMessage}. */
    public static final class Builder {

        private final String topic;

        private @Nullable String key;

        private @Nullable Object payload;

        private @Nullable String type;

        private final Map<String, String> headers = new LinkedHashMap<>();

        private Builder(String topic) {
            this.topic = topic;
        }

        /** The record key. */
        public Builder key(@Nullable String key) {
            this.key = key;
            return this;
        }

        /** The payload; {@code null} makes a tombstone. */
        public Builder payload(@Nullable Object payload) {
            this.payload = payload;
            return this;
        }

        /** The event type. */
        public Builder type(@Nullable String type) {
            this.type = type;
            return this;
        }

        /** An extra header. */
        public Builder header(String name, String value) {
            this.headers.put(name, value);
            return this;
        }

        /** The message. */
        public OutboxMessage build() {
            return new OutboxMessage(this.topic, this.key, this.payload, this.type, this.headers);
        }
    }
}
