package dev.txoutbox;

import dev.txoutbox.relay.kafka.OutboxHeaders;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.support.TransactionRequirement;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Lets a {@code @KafkaListener} process each outbox event once. It records the event id in the listener's own
 * database transaction, so the id is stored if and only if the effects of processing are; a redelivery of the
 * same event then finds its id and is skipped.
 *
 * <pre class="code">
 * &#064;KafkaListener(topics = "orders")
 * &#064;Transactional
 * void on(ConsumerRecord&lt;String, String&gt; record) {
 *     if (deduplicator.firstDelivery(record)) {
 *         readModel.apply(record.value());
 *     }
 * }
 * </pre>
 *
 * Ids are kept for {@code outbox.consumer.retention} and then purged.
 */
public final class Deduplicator {

    private final ProcessedEvents processedEvents;

    private final DataSource dataSource;

    public Deduplicator(ProcessedEvents processedEvents, DataSource dataSource) {
        this.processedEvents = processedEvents;
        this.dataSource = dataSource;
    }

    /**
     * Records the event id of an outbox record as processed, in the current transaction.
     *
     * @return {@code true} the first time an event id is seen, {@code false} for a redelivery
     * @throws OutboxException when there is no transaction, or the record has no {@code outbox-event-id} header
     */
    public boolean firstDelivery(ConsumerRecord<?, ?> record) {
        Header header = record.headers().lastHeader(OutboxHeaders.EVENT_ID);
        if (header == null) {
            throw new OutboxException(("Record %s-%d@%d has no %s header, so it cannot be de-duplicated: it was not"
                            + " published from an outbox. De-duplicate it by other means, or skip the check for its"
                            + " topic.")
                    .formatted(record.topic(), record.partition(), record.offset(), OutboxHeaders.EVENT_ID));
        }
        String value = new String(header.value(), StandardCharsets.UTF_8);
        UUID eventId;
        try {
            eventId = UUID.fromString(value);
        } catch (IllegalArgumentException ex) {
            throw new OutboxException(
                    "Record %s-%d@%d has an %s header that is not a UUID: '%s'."
                            .formatted(
                                    record.topic(), record.partition(), record.offset(), OutboxHeaders.EVENT_ID, value),
                    ex);
        }
        return firstDelivery(eventId);
    }

    /**
     * Records an event id as processed, in the current transaction.
     *
     * @return {@code true} the first time the id is seen, {@code false} for a redelivery
     * @throws OutboxException when there is no transaction
     */
    public boolean firstDelivery(UUID eventId) {
        TransactionRequirement.require(
                this.dataSource,
                "Deduplicator.firstDelivery(" + eventId + ")",
                "the processed event id must commit together with the effects of processing");
        return this.processedEvents.markProcessed("default", eventId);
    }
}
