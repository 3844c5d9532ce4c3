package dev.txoutbox.sample.readmodel;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.OutboxHeaders;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;
import tools.jackson.databind.json.JsonMapper;

/**
 * Consumes the order events, downstream of the outbox, and keeps the read model from them. A record with a value is
 * a placed or changed order; a tombstone (no value) is a deleted one.
 *
 * <p>Each record is handled in one transaction of the read model's database: the {@link Deduplicator} records its
 * event id there, so a redelivered event (Kafka delivers at least once) is recognized and skipped, and the id is
 * kept only if the view change commits.
 */
@Component
class OrderEventsListener {

    private static final Logger log = LoggerFactory.getLogger(OrderEventsListener.class);

    private final OrderViewProjector projector;

    private final JsonMapper json;

    private final Deduplicator deduplicator;

    OrderEventsListener(OrderViewProjector projector, JsonMapper json, Deduplicator deduplicator) {
        this.projector = projector;
        this.json = json;
        this.deduplicator = deduplicator;
    }

    /** The read model's consumer group, also the name its processed event ids are kept under. */
    static final String CONSUMER = "sample-read-model";

    @KafkaListener(id = "order-read-model", topics = "${sample.orders-topic}", groupId = CONSUMER)
    @Transactional
    void on(ConsumerRecord<String, @Nullable String> record) {
        UUID eventId = eventId(record);
        Long orderId = orderId(record);
        if (orderId == null) {
            // Retrying cannot fix a record without an order id; skipping it keeps the partition flowing.
            log.warn(
                    "Read model ignored a record without an order id as key at {}-{}@{} (event {})",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    eventId);
            return;
        }
        if (eventId != null && !this.deduplicator.firstDelivery(CONSUMER, record)) {
            log.info("Read model skipped event {}: it was processed before", eventId);
            return;
        }
        if (record.value() == null) {
            this.projector.remove(orderId);
            return;
        }
        OrderEvent event = this.json.readValue(record.value(), OrderEvent.class);
        this.projector.apply(event, eventId);
    }

    private static @Nullable Long orderId(ConsumerRecord<String, ?> record) {
        try {
            return (record.key() != null) ? Long.valueOf(record.key()) : null;
        } catch (NumberFormatException ex) {
            return null;
        }
    }

    /** The record's event id, or none for a record that was not published from an outbox. */
    private static @Nullable UUID eventId(ConsumerRecord<?, ?> record) {
        return (record.headers().lastHeader(OutboxHeaders.EVENT_ID) != null) ? OutboxHeaders.eventId(record) : null;
    }
}
