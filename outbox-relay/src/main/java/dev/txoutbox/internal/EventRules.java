package dev.txoutbox.internal;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What every event written to the outbox must respect, whichever writer writes it: a topic, a key for a tombstone,
 * header names of its own, and a size the relay can publish. The writers check an event against these rules before
 * they insert it, so that a bad event fails its business transaction while its caller can still do something about
 * it, instead of becoming a dead letter once the transaction committed.
 *
 * <p>Also the one source of the names of the headers the relay adds, which the publisher sends and the size of a
 * record counts. Not API: shared by the relay's JDBC writer and the starter's writer.
 */
public final class EventRules {

    /** The prefix of the header names that the outbox sets itself (the event id and type). */
    public static final String RESERVED_HEADER_PREFIX = "outbox-";

    /** The Kafka producer's default {@code max.request.size}, 1 MiB: the largest record a relay sends unless set. */
    public static final long KAFKA_DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

    /**
     * Bytes a Kafka record takes beyond its key, value and headers, at most: the framing of the batch the producer
     * checks it as (61 bytes) and of the record itself (variable-length integers of up to 36 bytes), rounded up.
     */
    static final int RECORD_OVERHEAD = 128;

    /** Bytes a header takes beyond its name and value, at most: the two lengths as variable-length integers. */
    static final int HEADER_OVERHEAD = 10;

    /** The length of an event id as the relay sends it in its header. */
    private static final int EVENT_ID_LENGTH = 36;

    /** The header the relay adds to every record with the event's id (a UUID), for de-duplication. */
    public static final String EVENT_ID_HEADER = RESERVED_HEADER_PREFIX + "event-id";

    /** The header the relay adds to every record with the event's type. */
    public static final String EVENT_TYPE_HEADER = RESERVED_HEADER_PREFIX + "event-type";

    private EventRules() {}

    /**
     * What is wrong with an event, if anything, said as a sentence whose subject is {@code writer}: a blank topic, a
     * tombstone without a key (it would delete nothing), or a header name that the outbox reserves.
     *
     * @param writer who writes the event, the subject of the message, such as {@code OrderService.placeOrder(..)}
     * @param topic the event's Kafka topic
     * @param key the event's key, or {@code null}
     * @param tombstone whether the event has no payload
     * @param headerNames the names of the event's own headers
     * @return the message, or {@code null} when the event respects the rules
     */
    public static @Nullable String violation(
            String writer, String topic, @Nullable String key, boolean tombstone, Collection<String> headerNames) {
        if (topic.isBlank()) {
            return "%s has a blank topic: name the Kafka topic the event goes to.".formatted(writer);
        }
        if (tombstone && key == null) {
            return ("%s would write a tombstone (null payload) to topic '%s' without a key: a tombstone deletes the"
                            + " value of its key, so give the event a key, or a payload.")
                    .formatted(writer, topic);
        }
        for (String header : headerNames) {
            if (header.startsWith(RESERVED_HEADER_PREFIX)) {
                return ("%s sets the header '%s' on its event to topic '%s', but header names that start with '%s'"
                                + " belong to the outbox (the event id and type, which consumers de-duplicate on)."
                                + " Rename the header.")
                        .formatted(writer, header, topic, RESERVED_HEADER_PREFIX);
            }
        }
        return null;
    }

    /**
     * The size of an event's record as the producer checks it against {@code max.request.size}, at most: payload,
     * key and headers (the event's own and the event id and type the relay adds), with the framing Kafka adds to a
     * record in a batch of its own. A writer refuses an event above the relay's limit: the producer would refuse it
     * (or the broker), and the event would become a dead letter long after its transaction committed.
     */
    public static long recordSize(
            byte @Nullable [] payload, @Nullable String key, String eventType, Map<String, String> headers) {
        long size = RECORD_OVERHEAD + (payload != null ? payload.length : 0) + utf8Length(key);
        size += HEADER_OVERHEAD + utf8Length(EVENT_ID_HEADER) + EVENT_ID_LENGTH;
        size += HEADER_OVERHEAD + utf8Length(EVENT_TYPE_HEADER) + utf8Length(eventType);
        for (Map.Entry<String, String> header : headers.entrySet()) {
            size += HEADER_OVERHEAD + utf8Length(header.getKey()) + utf8Length(header.getValue());
        }
        return size;
    }

    private static int utf8Length(@Nullable String text) {
        return text != null ? text.getBytes(StandardCharsets.UTF_8).length : 0;
    }
}
