package dev.txoutbox;

import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.support.KafkaUtils;

/**
 * Lets a {@code @KafkaListener} process each outbox event once. It records the event id in the listener's own
 * database transaction, so the id is stored if and only if the effects of processing are; a redelivery of the
 * same event then finds its id and is skipped.
 *
 * <p>Processed ids are kept per consumer: the consumer's name is what tells apart the listeners that each process
 * every event on their own (a read model and a notifier of one topic, say), so that one's ids never make the other
 * skip an event. Called from a listener, {@link #firstDelivery(ConsumerRecord)} takes the listener's consumer group
 * id as the name; elsewhere, or to share or split the record of ids otherwise, pass a name.
 *
 * <pre class="code">
 * &#064;KafkaListener(topics = "orders", groupId = "read-model")
 * &#064;Transactional
 * void on(ConsumerRecord&lt;String, String&gt; record) {
 *     if (deduplicator.firstDelivery(record)) {
 *         readModel.apply(record.value());
 *     }
 * }
 * </pre>
 *
 * The starter provides one that keeps the ids in the outbox's database (unless {@code outbox.consumer.enabled} is
 * {@code false}); ids are kept for {@code outbox.consumer.retention} and then purged. An application that declares
 * a {@code Deduplicator} bean of its own replaces it; such an implementation provides
 * {@link #firstDelivery(String, UUID)}, and the other methods read the consumer and the event id for it.
 *
 * <p><b>Retry topics.</b> spring-kafka runs the listeners of a {@code @RetryableTopic}'s retry and dead-letter topics
 * under the main listener's group id with a suffix appended (such as {@code orders-retry-0} or {@code orders-dlt};
 * the suffixes are settings of the annotation, and the naming can be replaced as a whole), so
 * {@link #firstDelivery(ConsumerRecord)} would keep their ids under another name, and an event processed there
 * would be processed again when a duplicate arrives on the main topic. The suffix is not stripped here, because it
 * cannot be told reliably from a group id that simply ends that way. A listener that also runs on retry topics passes
 * its main consumer name instead: {@code firstDelivery("read-model", record)}.
 *
 * <p>The former {@code firstDelivery(UUID eventId)}, which kept one record of ids for all consumers, is gone: call
 * {@link #firstDelivery(String, UUID)} with the consumer's name, or {@link #firstDelivery(ConsumerRecord)} from a
 * listener.
 */
public interface Deduplicator {

    /**
     * Records the event id of an outbox record as processed by the consumer group of the listener that calls it
     * (the group id that spring-kafka sets on its listener threads), in the current transaction. On the retry and
     * dead-letter topics of a {@code @RetryableTopic} that group id carries a suffix: pass the consumer's name there
     * (see the class's description).
     *
     * @return {@code true} the first time this consumer group sees the event id, {@code false} for a redelivery
     * @throws OutboxException when there is no transaction, when the record has no {@code outbox-event-id} header,
     *     or when it is not called on a listener's thread, which tells its consumer group
     */
    default boolean firstDelivery(ConsumerRecord<?, ?> record) {
        String groupId = KafkaUtils.getConsumerGroupId();
        if (groupId == null || groupId.isBlank()) {
            throw new OutboxException(("Deduplicator.firstDelivery(record) was called for record %s-%d@%d outside a"
                            + " Kafka listener's thread, so there is no consumer group id to keep its processed event"
                            + " ids under. Pass the consumer's name: firstDelivery(\"my-consumer\", record).")
                    .formatted(record.topic(), record.partition(), record.offset()));
        }
        return firstDelivery(groupId, record);
    }

    /**
     * Records the event id of an outbox record as processed by the named consumer, in the current transaction.
     *
     * @param consumer the consumer's name, which tells its processed ids apart from other consumers'; not blank
     * @return {@code true} the first time this consumer sees the event id, {@code false} for a redelivery
     * @throws OutboxException when there is no transaction, the name is blank, or the record has no {@code
     *     outbox-event-id} header
     */
    default boolean firstDelivery(String consumer, ConsumerRecord<?, ?> record) {
        return firstDelivery(consumer, OutboxHeaders.eventId(record));
    }

    /**
     * Records an event id as processed by the named consumer, in the current transaction.
     *
     * @param consumer the consumer's name, which tells its processed ids apart from other consumers'; not blank
     * @return {@code true} the first time this consumer sees the id, {@code false} for a redelivery
     * @throws OutboxException when there is no transaction or the name is blank
     */
    boolean firstDelivery(String consumer, UUID eventId);
}
