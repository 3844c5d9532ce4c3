package dev.txoutbox;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * The Kafka headers that every record published from the outbox carries; their values are UTF-8 text. A consumer
 * reads the event id with {@link #eventId(ConsumerRecord)}:
 *
 * <pre class="code">
 * &#064;KafkaListener(topics = "orders")
 * void on(ConsumerRecord&lt;String, String&gt; record) {
 *     UUID eventId = OutboxHeaders.eventId(record);
 *     ...
 * }
 * </pre>
 */
public final class OutboxHeaders {

    /** The event's unique id (a UUID): the same on every delivery of one event, for de-duplication. */
    public static final String EVENT_ID = "outbox-event-id";

    /** The event's type, by default the simple class name of the payload. */
    public static final String EVENT_TYPE = "outbox-event-type";

    private OutboxHeaders() {}

    /**
     * The id of the outbox event a record carries, read from its {@value #EVENT_ID} header.
     *
     * @param record a record published from the outbox
     * @return the event id, the same on every delivery of the event
     * @throws OutboxException when the record has no {@value #EVENT_ID} header (it was not published from an
     *     outbox) or its value is not a UUID; the message names the record's topic, partition and offset
     */
    public static UUID eventId(ConsumerRecord<?, ?> record) {
        Header header = record.headers().lastHeader(EVENT_ID);
        if (header == null || header.value() == null) {
            throw new OutboxException(("Record %s-%d@%d has no %s header: it was not published from an outbox, so it"
                            + " carries no event id. Tell such records apart by other means, or keep them off the"
                            + " topics that are read as outbox events.")
                    .formatted(record.topic(), record.partition(), record.offset(), EVENT_ID));
        }
        String value = new String(header.value(), StandardCharsets.UTF_8);
        try {
            return UUID.fromString(value);
        } catch (IllegalArgumentException ex) {
            throw new OutboxException(
                    ("Record %s-%d@%d has an %s header that is not a UUID: '%s'. The outbox always writes a UUID"
                                    + " there: look for another producer that sets this header on the topic.")
                            .formatted(record.topic(), record.partition(), record.offset(), EVENT_ID, value),
                    ex);
        }
    }
}
