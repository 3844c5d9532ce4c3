package dev.txoutbox.writer;

import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.internal.EventRules;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;
import org.springframework.core.NestedExceptionUtils;

/**
 * Serializes an event when it is written: its payload into the record's value, with the headers the value's
 * serializer adds, and its key once through the key serializer of the relay's producer, if one is configured, so that
 * a key that serializer refuses fails the business transaction rather than the relay's send.
 */
final class EventSerializer implements AutoCloseable {

    /** Where Apicurio Registry's serializers are told to write the schema's id into the value, not a header. */
    private static final String APICURIO_HEADERS = "apicurio.registry.headers.enabled";

    private final OutboxPayloadSerializer values;

    private final @Nullable Serializer<Object> keys;

    /**
     * Creates a serializer of events.
     *
     * @param values turns payloads into values
     * @param keys the serializer the relay's producer sends keys with, checked on each key; none for UTF-8 keys
     */
    @SuppressWarnings("unchecked")
    EventSerializer(OutboxPayloadSerializer values, @Nullable Serializer<?> keys) {
        this.values = values;
        this.keys = (Serializer<Object>) keys;
    }

    /** An event's value and the headers it is stored and sent with. */
    record Serialized(byte @Nullable [] value, Map<String, String> headers) {}

    /**
     * Serializes an event.
     *
     * @param headers the event's headers, to which the value's serializer may add
     * @throws OutboxException naming the event, its origin and the serializer's own message when a serializer fails,
     *     or when the value's serializer adds a header whose value is not text
     */
    Serialized serialize(
            @Nullable Object payload,
            @Nullable String key,
            Map<String, String> headers,
            String origin,
            String topic,
            String type) {
        if (key != null && this.keys != null) {
            checkKey(key, origin, topic, type);
        }
        if (payload == null) {
            return new Serialized(null, headers);
        }
        if (payload instanceof byte[] bytes) {
            return new Serialized(bytes, headers);
        }
        RecordHeaders recordHeaders = new RecordHeaders();
        headers.forEach((name, value) -> recordHeaders.add(name, value.getBytes(StandardCharsets.UTF_8)));
        byte[] value;
        try {
            value = this.values.serialize(topic, recordHeaders, payload);
        } catch (RuntimeException ex) {
            throw new OutboxException(
                    ("%s: the payload of event %s to topic '%s' (a %s) could not be serialized by %s: %s. %s The"
                                    + " business transaction is rolled back.")
                            .formatted(
                                    origin,
                                    type,
                                    topic,
                                    payload.getClass().getName(),
                                    this.values,
                                    messages(ex),
                                    advice(ex)),
                    ex);
        }
        return new Serialized(value, textHeaders(headers, recordHeaders, origin, topic, type));
    }

    /** What to do about a value the serializer refused: it depends on whether it could reach its registry. */
    private String advice(RuntimeException ex) {
        if (this.values instanceof JsonPayloadSerializer) {
            return "Make it serializable to JSON (public getters or a record), pass a String or byte[], or declare an"
                    + " OutboxPayloadSerializer bean.";
        }
        Throwable unreachable = ex;
        while (unreachable != null && !(unreachable instanceof IOException)) {
            unreachable = unreachable.getCause() != unreachable ? unreachable.getCause() : null;
        }
        if (unreachable != null) {
            return ("The serializer could not reach what it calls, such as its schema registry (%s): check that the"
                            + " registry runs and that its address and credentials are right"
                            + " (outbox.serialization.properties.*, or spring.kafka.properties.*), then try again.")
                    .formatted(unreachable);
        }
        return "Pass a payload the serializer accepts; when the schema registry refused its schema, make the change"
                + " compatible with the subject's compatibility rule, or register the new schema under a subject of"
                + " its own.";
    }

    private void checkKey(String key, String origin, String topic, String type) {
        try {
            this.keys.serialize(topic, new RecordHeaders(), key);
        } catch (RuntimeException ex) {
            throw new OutboxException(
                    ("%s: the key '%s' of event %s to topic '%s' could not be serialized by %s"
                                    + " (outbox.serialization.key-serializer), with which the relay's producer would"
                                    + " send it: %s. Pass a key the serializer accepts, or change the key serializer."
                                    + " The business transaction is rolled back.")
                            .formatted(
                                    origin,
                                    key,
                                    type,
                                    topic,
                                    this.keys.getClass().getName(),
                                    messages(ex)),
                    ex);
        }
    }

    /** The headers after serialization, the serializer's among them, as the text the outbox row stores. */
    private Map<String, String> textHeaders(
            Map<String, String> given, RecordHeaders serialized, String origin, String topic, String type) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header header : serialized) {
            byte[] bytes = header.value() != null ? header.value() : new byte[0];
            String before = given.get(header.key());
            if (before != null && Arrays.equals(bytes, before.getBytes(StandardCharsets.UTF_8))) {
                headers.put(header.key(), before);
                continue;
            }
            if (before != null || header.key().startsWith(EventRules.RESERVED_HEADER_PREFIX)) {
                throw new OutboxException(("%s: the value serializer %s set header '%s' of event %s to topic '%s',"
                                + " which %s: consumers would read one value or the other depending on how they read"
                                + " headers. Rename the event's header, or configure the serializer not to set it.")
                        .formatted(
                                origin,
                                this.values,
                                header.key(),
                                type,
                                topic,
                                before != null
                                        ? "the event has already"
                                        : "the relay sets itself (headers starting with "
                                                + EventRules.RESERVED_HEADER_PREFIX + " are the outbox's)"));
            }
            String text = text(bytes);
            if (text == null) {
                throw new OutboxException(("%s: the value serializer %s added header '%s' to event %s to topic '%s',"
                                + " whose value (%d bytes) is binary, not UTF-8 text, and the outbox keeps headers as"
                                + " text. Configure the serializer to write that into the record's value instead: for"
                                + " Apicurio Registry's serializers set %s=false"
                                + " (outbox.serialization.properties.%s=false), which puts the schema's id in the"
                                + " value, as Confluent's wire format does.")
                        .formatted(
                                origin,
                                this.values,
                                header.key(),
                                type,
                                topic,
                                bytes.length,
                                APICURIO_HEADERS,
                                APICURIO_HEADERS));
            }
            headers.put(header.key(), text);
        }
        return headers;
    }

    /**
     * The bytes as text, or null when they are not text: not UTF-8, or with control characters other than line
     * breaks and tabs. A number in binary, such as a schema id, is valid UTF-8 as long as its bytes are small, and
     * would be refused only once the ids grow; its zero bytes make it binary from the first id on.
     */
    private static @Nullable String text(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException ex) {
            return null;
        }
        boolean binary = text.chars().anyMatch(c -> Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r');
        return binary ? null : text;
    }

    /** The failure's message, and its root cause's (such as a schema registry's own) when that says more. */
    private static String messages(RuntimeException ex) {
        Throwable root = NestedExceptionUtils.getMostSpecificCause(ex);
        if (root == ex
                || root.getMessage() == null
                || String.valueOf(ex.getMessage()).contains(root.getMessage())) {
            return String.valueOf(ex.getMessage());
        }
        return ex.getMessage() + ": " + root.getMessage();
    }

    @Override
    public void close() {
        if (this.keys != null) {
            this.keys.close();
        }
    }
}
