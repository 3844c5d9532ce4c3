package dev.txoutbox.writer;

import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.support.TransactionRequirement;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes events as outbox rows in the current transaction. Used by the {@code @OutboxEvent} interceptor and the
 * {@link dev.txoutbox.Outbox} facade; not meant to be called directly.
 */
public final class OutboxWriter {

    private final OutboxStore store;

    private final OutboxPayloadSerializer serializer;

    private final Runnable afterCommit;

    /**
     * Creates a writer.
     *
     * @param store the outbox table
     * @param serializer turns payloads into bytes
     * @param afterCommit runs once after each transaction that wrote rows has committed (wakes the relay up)
     */
    public OutboxWriter(OutboxStore store, OutboxPayloadSerializer serializer, Runnable afterCommit) {
        this.store = store;
        this.serializer = serializer;
        this.afterCommit = afterCommit;
    }

    /**
     * Fails unless a transaction is active that covers the outbox's data source and may write.
     *
     * @param origin where the event comes from, for the message, such as {@code OrderService.placeOrder(..)}
     * @throws OutboxException when there is no such transaction
     */
    public void requireTransaction(String origin) {
        TransactionRequirement.require(
                this.store.dataSource(),
                origin,
                "the outbox row must commit or roll back together with the business change");
    }

    /**
     * Writes one event in the current transaction.
     *
     * @param message the event
     * @param origin where the event comes from, for messages, such as {@code OrderService.placeOrder(..)}
     * @return the event id
     * @throws OutboxException when there is no transaction, or the message is invalid
     */
    public UUID write(OutboxMessage message, String origin) {
        requireTransaction(origin);
        String topic = message.topic();
        if (topic.isBlank()) {
            throw new OutboxException(
                    "%s has a blank topic: name the Kafka topic the event goes to.".formatted(origin));
        }
        Object payload = message.payload();
        if (payload == null && message.key() == null) {
            throw new OutboxException(("%s would write a tombstone (null payload) to topic '%s' without a key: a"
                            + " tombstone deletes the value of its key, so give the event a key, or a payload.")
                    .formatted(origin, topic));
        }
        String type = message.type() != null
                ? message.type()
                : payload != null ? payload.getClass().getSimpleName() : "Tombstone";
        UUID eventId = UUID.randomUUID();
        this.store.insert(new NewRecord(
                eventId, topic, message.key(), type, serialize(payload, origin, topic, type), message.headers()));
        registerWakeUp();
        return eventId;
    }

    private byte @Nullable [] serialize(@Nullable Object payload, String origin, String topic, String type) {
        if (payload == null) {
            return null;
        }
        if (payload instanceof byte[] bytes) {
            return bytes;
        }
        if (payload instanceof String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        try {
            return this.serializer.serialize(payload);
        } catch (RuntimeException ex) {
            throw new OutboxException(
                    ("%s: the payload of event %s to topic '%s' (a %s) could not be serialized: %s. Make it"
                                    + " serializable to JSON (public getters or a record), pass a String or byte[],"
                                    + " or declare an OutboxPayloadSerializer bean.")
                            .formatted(origin, type, topic, payload.getClass().getName(), ex.getMessage()),
                    ex);
        }
    }

    private void registerWakeUp() {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            return;
        }
        // Once per transaction: synchronizations are per transaction (suspended with it), unlike bound resources.
        for (TransactionSynchronization synchronization : TransactionSynchronizationManager.getSynchronizations()) {
            if (synchronization instanceof WakeUpAfterCommit wakeUp && wakeUp.writer == this) {
                return;
            }
        }
        TransactionSynchronizationManager.registerSynchronization(new WakeUpAfterCommit(this));
    }

    private record WakeUpAfterCommit(OutboxWriter writer) implements TransactionSynchronization {

        @Override
        public void afterCommit() {
            this.writer.afterCommit.run();
        }
    }
}
