package dev.txoutbox.store;

import dev.txoutbox.internal.EventRules;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Writes events to the outbox table in the caller's own JDBC transaction, for applications without Spring's
 * transactions: the event's row commits or rolls back with the business change made on the same connection.
 *
 * <pre>{@code
 * try (Connection connection = dataSource.getConnection()) {
 *     connection.setAutoCommit(false);
 *     // ... the business change, on this connection
 *     UUID eventId = writer.write(connection, "orders", orderId, "OrderPlaced", json);
 *     connection.commit();
 * }
 * relay.wakeUp(); // publish now rather than at the relay's next poll
 * }</pre>
 *
 * <p>Each event gets a version 7 id ({@link EventIds}), which the relay sends as the {@code outbox-event-id} header.
 * It is checked as the Spring Boot starter's writer checks it ({@link EventRules}): a topic, a key for a tombstone, no
 * header name of the outbox's own, and a record no larger than the relay's producer sends. Writers of one topic and
 * key take turns: the second waits until the first commits or rolls back, so that the events of a key are published
 * in the commit order of their transactions. Hence one thread must not write a topic and key on two connections
 * whose transactions are open at once: the second write would wait forever for the first.
 *
 * <p>Thread-safe: one writer serves every thread.
 */
public final class JdbcOutboxWriter {

    private static final String MAX_REQUEST_SIZE = "max.request.size";

    private final OutboxStore store;

    private final long maxRecordBytes;

    private final String limitSource;

    /**
     * Creates a writer that refuses events larger than {@code maxRecordBytes} as Kafka records.
     *
     * @param store the outbox table
     * @param maxRecordBytes the {@code max.request.size} of the relay's producer, see
     *     {@link #forProducer(OutboxStore, Map)}
     */
    public JdbcOutboxWriter(OutboxStore store, long maxRecordBytes) {
        this(store, maxRecordBytes, "the maximum record size this writer was given");
    }

    private JdbcOutboxWriter(OutboxStore store, long maxRecordBytes, String limitSource) {
        if (maxRecordBytes <= 0) {
            throw new IllegalArgumentException(
                    "Invalid maximum record size %d bytes from %s: it must be positive, such as %d."
                            .formatted(maxRecordBytes, limitSource, EventRules.KAFKA_DEFAULT_MAX_RECORD_BYTES));
        }
        this.store = Objects.requireNonNull(store, "store");
        this.maxRecordBytes = maxRecordBytes;
        this.limitSource = limitSource;
    }

    /**
     * Creates a writer that refuses events larger than the relay's producer sends: its {@code max.request.size},
     * else Kafka's default of 1 MiB.
     *
     * @param store the outbox table
     * @param producerConfiguration the relay's producer configuration, such as {@code
     *     KafkaRecordPublisher.producerConfiguration()}
     * @throws IllegalArgumentException when {@code max.request.size} is not a positive number of bytes
     */
    public static JdbcOutboxWriter forProducer(OutboxStore store, Map<String, ?> producerConfiguration) {
        Object configured = producerConfiguration.get(MAX_REQUEST_SIZE);
        if (configured == null) {
            return new JdbcOutboxWriter(
                    store, EventRules.KAFKA_DEFAULT_MAX_RECORD_BYTES, "the Kafka producer's default max.request.size");
        }
        long bytes;
        try {
            bytes = configured instanceof Number number
                    ? number.longValue()
                    : Long.parseLong(configured.toString().trim());
        } catch (NumberFormatException ex) {
            bytes = -1;
        }
        return new JdbcOutboxWriter(store, bytes, "the producer's max.request.size=" + configured);
    }

    /** The largest record, in bytes, this writer accepts an event as. */
    public long maxRecordBytes() {
        return this.maxRecordBytes;
    }

    /**
     * Writes an event without headers of its own; see {@link #write(Connection, String, String, String, byte[], Map)}.
     */
    public UUID write(
            Connection connection, String topic, @Nullable String key, String eventType, byte @Nullable [] payload)
            throws SQLException {
        return write(connection, topic, key, eventType, payload, Map.of());
    }

    /**
     * Writes an event in the transaction of the caller's connection, which the caller then commits or rolls back.
     * Once it committed, {@code OutboxRelay.wakeUp()} has the local relay publish it at once.
     *
     * @param connection a connection to the outbox table's database, in a transaction (autocommit off), the one the
     *     business change is made on
     * @param topic the Kafka topic
     * @param key the Kafka record key and unit of ordering, or {@code null} for an event without a key
     * @param eventType the event's type, sent as the {@code outbox-event-type} header
     * @param payload the record's value, or {@code null} for a tombstone
     * @param headers the event's own Kafka headers
     * @return the event id, sent as the {@code outbox-event-id} header
     * @throws IllegalArgumentException when the event is invalid or larger than the relay can publish
     * @throws IllegalStateException when the connection is in autocommit mode
     * @throws SQLException when the database refuses the insert
     */
    public UUID write(
            Connection connection,
            String topic,
            @Nullable String key,
            String eventType,
            byte @Nullable [] payload,
            Map<String, String> headers)
            throws SQLException {
        String violation =
                EventRules.violation("Event '%s'".formatted(eventType), topic, key, payload == null, headers.keySet());
        if (violation != null) {
            throw new IllegalArgumentException(violation);
        }
        requireSizeWithinLimit(topic, key, eventType, payload, headers);
        UUID eventId = EventIds.next();
        this.store.insert(connection, new NewRecord(eventId, topic, key, eventType, payload, headers));
        return eventId;
    }

    private void requireSizeWithinLimit(
            String topic,
            @Nullable String key,
            String eventType,
            byte @Nullable [] payload,
            Map<String, String> headers) {
        long size = EventRules.recordSize(payload, key, eventType, headers);
        if (size <= this.maxRecordBytes) {
            return;
        }
        throw new IllegalArgumentException(("Event '%s' to topic '%s' (%s) is %d bytes as a Kafka record (a payload"
                        + " of %d bytes, its key and %d headers), more than the %d bytes the relay can publish (%s)."
                        + " Make the event smaller (send a reference to large content instead), or raise the relay"
                        + " producer's max.request.size and the topic's max.message.bytes together, so that the"
                        + " producer sends it and the broker accepts it.")
                .formatted(
                        eventType,
                        topic,
                        key != null ? "key '" + key + "'" : "no key",
                        size,
                        payload != null ? payload.length : 0,
                        headers.size() + 2,
                        this.maxRecordBytes,
                        this.limitSource));
    }
}
