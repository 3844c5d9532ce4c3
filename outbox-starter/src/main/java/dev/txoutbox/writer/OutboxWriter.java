package dev.txoutbox.writer;

import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import dev.txoutbox.internal.EventRules;
import dev.txoutbox.store.EventIds;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxStore;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes events as outbox rows in the current transaction, for the {@code @OutboxEvent} interceptor and the
 * {@link dev.txoutbox.Outbox} facade. It keeps the writer's trace context with each event and refuses events larger
 * than the relay can publish.
 */
final class OutboxWriter {

    private final OutboxStore store;

    private final EventSerializer serializer;

    private final Consumer<Map<String, Integer>> afterCommit;

    private final Supplier<Map<String, String>> traceContext;

    private final MaxRecordSize maxRecordSize;

    /** Per open transaction of this thread, the key locks it holds, each with the first key it took it for. */
    private final ThreadLocal<Map<Object, Map<Object, TopicKey>>> keysHeld =
            ThreadLocal.withInitial(IdentityHashMap::new);

    /**
     * Creates a writer.
     *
     * @param store the outbox table
     * @param serializer turns payloads into values, with the headers their serializer adds
     * @param afterCommit runs once after each transaction that wrote rows has committed, with the number of events
     *     it wrote per topic (wakes the relay up, counts)
     * @param traceContext the current trace context as headers (such as {@code traceparent}), or none
     * @param maxRecordSize the largest record the relay can publish
     */
    OutboxWriter(
            OutboxStore store,
            EventSerializer serializer,
            Consumer<Map<String, Integer>> afterCommit,
            Supplier<Map<String, String>> traceContext,
            MaxRecordSize maxRecordSize) {
        this.store = store;
        this.serializer = serializer;
        this.afterCommit = afterCommit;
        this.traceContext = traceContext;
        this.maxRecordSize = maxRecordSize;
    }

    /** The largest record the relay can publish, which {@link #write} enforces. */
    MaxRecordSize maxRecordSize() {
        return this.maxRecordSize;
    }

    /**
     * Fails unless a transaction is active that covers the outbox's data source and may write.
     *
     * @param origin where the event comes from, for the message, such as {@code OrderService.placeOrder(..)}
     * @throws OutboxException when there is no such transaction
     */
    void requireTransaction(String origin) {
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
     * @throws OutboxException when there is no transaction, or the message is invalid or larger than the relay can
     *     publish
     */
    UUID write(OutboxMessage message, String origin) {
        requireTransaction(origin);
        String topic = message.topic();
        Object payload = message.payload();
        String violation = EventRules.violation(
                origin, topic, message.key(), payload == null, message.headers().keySet());
        if (violation != null) {
            throw new OutboxException(violation);
        }
        String type = message.type() != null
                ? message.type()
                : payload != null ? payload.getClass().getSimpleName() : "Tombstone";
        EventSerializer.Serialized serialized =
                this.serializer.serialize(payload, message.key(), headers(message), origin, topic, type);
        byte[] bytes = serialized.value();
        Map<String, String> headers = serialized.headers();
        requireSizeWithinLimit(bytes, message.key(), type, headers, origin, topic);
        WriterSynchronization synchronization = synchronization();
        if (message.key() != null && synchronization != null) {
            synchronization.claimKey(topic, message.key(), origin);
        }
        UUID eventId = EventIds.next();
        this.store.insert(new NewRecord(eventId, topic, message.key(), type, bytes, headers));
        if (synchronization != null) {
            synchronization.written(topic);
        }
        return eventId;
    }

    /**
     * Refuses an event whose record the relay could never publish: the producer would refuse it (or the broker), and
     * the event would become a dead letter long after the business transaction committed. Refused here, the
     * transaction fails while its caller can still do something about it.
     */
    private void requireSizeWithinLimit(
            byte @Nullable [] payload,
            @Nullable String key,
            String type,
            Map<String, String> headers,
            String origin,
            String topic) {
        long size = EventRules.recordSize(payload, key, type, headers);
        if (size <= this.maxRecordSize.bytes()) {
            return;
        }
        String setting = this.maxRecordSize.setting();
        throw new OutboxException(("%s: event %s to topic '%s' (%s) is %d bytes as a Kafka record (a payload of %d"
                        + " bytes, its key and %d headers), more than the %d bytes the relay can publish (%s). Make"
                        + " the event smaller (send a reference to large content instead), or raise the producer's"
                        + " max.request.size (outbox.relay.producer.max.request.size) and the topic's"
                        + " max.message.bytes together%s, so that the producer sends it and the broker accepts it.")
                .formatted(
                        origin,
                        type,
                        topic,
                        key != null ? "key '" + key + "'" : "no key",
                        size,
                        payload != null ? payload.length : 0,
                        headers.size() + 2,
                        this.maxRecordSize.bytes(),
                        setting,
                        setting.equals("outbox.max-record-size") ? ", and outbox.max-record-size with them" : ""));
    }

    /** The event's own headers, after the trace context of the writing thread (which the relay sends on). */
    private Map<String, String> headers(OutboxMessage message) {
        Map<String, String> trace = this.traceContext.get();
        if (trace.isEmpty()) {
            return message.headers();
        }
        Map<String, String> headers = new HashMap<>(trace);
        headers.putAll(message.headers());
        return headers;
    }

    /** This transaction's synchronization, registered on first use; none without transaction synchronization. */
    private @Nullable WriterSynchronization synchronization() {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            return null;
        }
        // Synchronizations belong to one transaction (a suspended transaction's are suspended with it).
        for (TransactionSynchronization registered : TransactionSynchronizationManager.getSynchronizations()) {
            if (registered instanceof WriterSynchronization mine && mine.writer == this) {
                return mine;
            }
        }
        Object transaction = TransactionSynchronizationManager.getResource(this.store.dataSource());
        WriterSynchronization created = new WriterSynchronization(this, transaction);
        TransactionSynchronizationManager.registerSynchronization(created);
        return created;
    }

    /** A key of a topic: the unit whose writers take turns, by a lock each holds until its transaction ends. */
    private record TopicKey(String topic, String key) {}

    /**
     * Wakes the relay up after a commit that wrote rows, and tracks the keys, per topic, whose write lock each open
     * transaction of this thread holds. A transaction that writes a key of a topic holds its lock until it ends; a
     * new transaction started inside it (REQUIRES_NEW) on the same thread that writes the same key to the same topic would wait for it forever, which
     * PostgreSQL cannot see as a deadlock. That is refused with a message instead.
     */
    private static final class WriterSynchronization implements TransactionSynchronization {

        private final OutboxWriter writer;

        private final @Nullable Object transaction;

        private final Map<String, Integer> writtenPerTopic = new HashMap<>();

        WriterSynchronization(OutboxWriter writer, @Nullable Object transaction) {
            this.writer = writer;
            this.transaction = transaction;
        }

        void claimKey(String topic, String key, String origin) {
            TopicKey claimed = new TopicKey(topic, key);
            Object lock = this.writer.store.dialect().keyLock(topic, key);
            Map<Object, Map<Object, TopicKey>> held = this.writer.keysHeld.get();
            for (Map.Entry<Object, Map<Object, TopicKey>> other : held.entrySet()) {
                TopicKey holder =
                        other.getKey() != this.transaction ? other.getValue().get(lock) : null;
                if (holder != null && holder.equals(claimed)) {
                    throw new OutboxException(("%s writes an event of key '%s' to topic '%s' in a new transaction,"
                                    + " while a suspended transaction of the same thread has written an event of that"
                                    + " key to that topic and holds its lock until it ends: the new transaction would"
                                    + " wait for it forever. Write the event in the outer transaction, or do not start"
                                    + " a new one (REQUIRES_NEW) for it.")
                            .formatted(origin, key, topic));
                }
                if (holder != null) {
                    throw new OutboxException(("%s writes an event of key '%s' to topic '%s' in a new transaction,"
                                    + " while a suspended transaction of the same thread has written an event of key"
                                    + " '%s' to topic '%s', which shares its lock on this database (%s locks keys by"
                                    + " hash) and holds it until it ends: the new transaction would wait for it"
                                    + " forever. Write the event in the outer transaction, or do not start a new one"
                                    + " (REQUIRES_NEW) for it.")
                            .formatted(
                                    origin,
                                    key,
                                    topic,
                                    holder.key(),
                                    holder.topic(),
                                    this.writer.store.dialect().productName()));
                }
            }
            if (this.transaction != null) {
                held.computeIfAbsent(this.transaction, transaction -> new HashMap<>())
                        .putIfAbsent(lock, claimed);
            }
        }

        void written(String topic) {
            this.writtenPerTopic.merge(topic, 1, Integer::sum);
        }

        @Override
        public void afterCommit() {
            if (!this.writtenPerTopic.isEmpty()) {
                this.writer.afterCommit.accept(this.writtenPerTopic);
            }
        }

        @Override
        public void afterCompletion(int status) {
            if (this.transaction != null) {
                this.writer.keysHeld.get().remove(this.transaction);
            }
        }
    }
}
