package dev.txoutbox.store;

import dev.txoutbox.internal.EventRules;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.support.SQLErrorCodeSQLExceptionTranslator;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes events to the outbox table in the caller's own JDBC transaction, for applications without Spring Boot: the
 * event's row commits or rolls back with the business change made on the same connection.
 *
 * <pre>{@code
 * try (Connection connection = dataSource.getConnection()) {
 *     connection.setAutoCommit(false);
 *     try {
 *         // ... the business change, on this connection
 *         UUID eventId = writer.write(connection, "orders", orderId, "OrderPlaced", json);
 *         connection.commit();
 *     } catch (SQLException | RuntimeException ex) {
 *         connection.rollback(); // the business change and the event, both
 *         throw ex;
 *     }
 * }
 * relay.wakeUp(); // publish now rather than at the relay's next poll
 * }</pre>
 *
 * <p>An application that runs Spring's transactions without Spring Boot (a {@code DataSourceTransactionManager} of
 * the store's data source) writes with {@link #writeInSpringTransaction(String, String, String, byte[], Map)}
 * instead, in the transaction of its {@code TransactionTemplate} or {@code @Transactional} method.
 *
 * <p>Each event gets a version 7 id ({@link EventIds}), which the relay sends as the {@code outbox-event-id} header.
 * It is checked as the Spring Boot starter's writer checks it: a topic, a key for a tombstone, no header name of the
 * outbox's own, and a record no larger than the relay's producer sends. Writers of one topic and key take turns: the
 * second waits until the first commits or rolls back, so that the events of a key are published in the commit order
 * of their transactions. Hence one thread must not write a topic and key on two connections whose transactions are
 * open at once: the second write would wait forever for the first.
 *
 * <p>Thread-safe: one writer serves every thread.
 */
public final class JdbcOutboxWriter {

    private static final String MAX_REQUEST_SIZE = "max.request.size";

    private static final String RAISE_PRODUCER_LIMIT = "raise the relay producer's max.request.size and the topic's"
            + " max.message.bytes together, so that the producer sends it and the broker accepts it";

    private final OutboxStore store;

    private final long maxRecordBytes;

    /** Where the limit comes from, for the message that refuses an event above it. */
    private final String limitSource;

    /** What to raise for an event above the limit to be accepted. */
    private final String raiseLimit;

    /**
     * Creates a writer that refuses events larger than {@code maxRecordBytes} as Kafka records.
     *
     * @param store the outbox table
     * @param maxRecordBytes the {@code max.request.size} of the relay's producer, see
     *     {@link #forProducer(OutboxStore, Map)}
     * @throws IllegalArgumentException when {@code maxRecordBytes} is not positive
     */
    public JdbcOutboxWriter(OutboxStore store, long maxRecordBytes) {
        this(
                store,
                maxRecordBytes,
                "the maxRecordBytes given to JdbcOutboxWriter's constructor",
                "raise the maxRecordBytes given to JdbcOutboxWriter's constructor, with the relay producer's"
                        + " max.request.size and the topic's max.message.bytes, so that the producer sends it and the"
                        + " broker accepts it");
    }

    private JdbcOutboxWriter(OutboxStore store, long maxRecordBytes, String limitSource, String raiseLimit) {
        if (maxRecordBytes <= 0) {
            throw new IllegalArgumentException("Invalid maximum record size %d bytes from %s: it must be positive,"
                            .formatted(maxRecordBytes, limitSource)
                    + " such as Kafka's default of %d.".formatted(EventRules.KAFKA_DEFAULT_MAX_RECORD_BYTES));
        }
        this.store = Objects.requireNonNull(store, "store");
        this.maxRecordBytes = maxRecordBytes;
        this.limitSource = limitSource;
        this.raiseLimit = raiseLimit;
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
                    store,
                    EventRules.KAFKA_DEFAULT_MAX_RECORD_BYTES,
                    "the Kafka producer's default max.request.size",
                    RAISE_PRODUCER_LIMIT);
        }
        long bytes;
        if (configured instanceof Number number) {
            bytes = number.longValue();
        } else {
            try {
                bytes = Long.parseLong(configured.toString().trim());
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(
                        ("The producer's max.request.size=%s is not a number of bytes: give it as a whole number of"
                                        + " bytes, such as %d for 1 MiB.")
                                .formatted(configured, EventRules.KAFKA_DEFAULT_MAX_RECORD_BYTES),
                        ex);
            }
        }
        return new JdbcOutboxWriter(
                store, bytes, "the producer's max.request.size=" + configured, RAISE_PRODUCER_LIMIT);
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
     * @param connection a connection to the outbox table's database, in a transaction that may write (autocommit
     *     off, not read-only), the one the business change is made on
     * @param topic the Kafka topic
     * @param key the Kafka record key and unit of ordering, or {@code null} for an event without a key
     * @param eventType the event's type, sent as the {@code outbox-event-type} header
     * @param payload the record's value, or {@code null} for a tombstone
     * @param headers the event's own Kafka headers
     * @return the event id, sent as the {@code outbox-event-id} header
     * @throws IllegalStateException when the connection is in autocommit mode or read-only
     * @throws IllegalArgumentException when the event is invalid or larger than the relay can publish
     * @throws SQLException when the database refuses the insert; the message names the event and the table
     */
    public UUID write(
            Connection connection,
            String topic,
            @Nullable String key,
            String eventType,
            byte @Nullable [] payload,
            Map<String, String> headers)
            throws SQLException {
        // The transaction first: a connection that would commit the row on its own is the caller's mistake whatever
        // the event, and it is refused before an id is drawn or anything is written.
        Objects.requireNonNull(connection, "connection");
        requireTransactionThatMayWrite(connection, topic, eventType);
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(eventType, "eventType");
        Objects.requireNonNull(headers, "headers");
        if (eventType.isBlank()) {
            throw new IllegalArgumentException(
                    "An event to topic '%s' has a blank eventType: name the event's type, such as 'OrderPlaced'."
                            .formatted(topic));
        }
        headers.forEach((name, value) -> {
            Objects.requireNonNull(name, () -> "a header name of event '%s'".formatted(eventType));
            Objects.requireNonNull(value, () -> "the value of header '%s' of event '%s'".formatted(name, eventType));
        });
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

    /**
     * Writes an event in the current Spring transaction of the store's data source, for applications that run
     * Spring's transactions without Spring Boot: a {@code DataSourceTransactionManager} (or another that binds the
     * data source's connection) begun by a {@code TransactionTemplate} or a {@code @Transactional} method. The row
     * commits or rolls back with that transaction; checked as {@link #write(Connection, String, String, String,
     * byte[], Map)} checks it.
     *
     * @param topic the Kafka topic
     * @param key the Kafka record key and unit of ordering, or {@code null} for an event without a key
     * @param eventType the event's type, sent as the {@code outbox-event-type} header
     * @param payload the record's value, or {@code null} for a tombstone
     * @param headers the event's own Kafka headers
     * @return the event id, sent as the {@code outbox-event-id} header
     * @throws IllegalStateException when no Spring transaction that may write is active on the store's data source
     * @throws IllegalArgumentException when the event is invalid or larger than the relay can publish
     * @throws DataAccessException when the database refuses the insert
     */
    public UUID writeInSpringTransaction(
            String topic,
            @Nullable String key,
            String eventType,
            byte @Nullable [] payload,
            Map<String, String> headers) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException(("JdbcOutboxWriter.writeInSpringTransaction(..) was called to write event"
                            + " '%s' to topic '%s' outside a Spring transaction: the row would commit on its own,"
                            + " whatever becomes of the business change. Call it in TransactionTemplate.execute(..)"
                            + " or a @Transactional method, with a DataSourceTransactionManager of the outbox's"
                            + " DataSource.")
                    .formatted(eventType, topic));
        }
        DataSource dataSource = this.store.dataSource();
        Connection connection = DataSourceUtils.getConnection(dataSource);
        try {
            return write(connection, topic, key, eventType, payload, headers);
        } catch (SQLException ex) {
            DataAccessException translated = new SQLErrorCodeSQLExceptionTranslator(dataSource)
                    .translate("JdbcOutboxWriter.writeInSpringTransaction(..)", null, ex);
            throw translated != null ? translated : new IllegalStateException(ex.getMessage(), ex);
        } finally {
            DataSourceUtils.releaseConnection(connection, dataSource);
        }
    }

    private void requireTransactionThatMayWrite(Connection connection, String topic, String eventType)
            throws SQLException {
        if (connection.getAutoCommit()) {
            throw new IllegalStateException(("The connection given to write event '%s' to topic '%s' into outbox"
                            + " table '%s' is in autocommit mode: the outbox row would commit on its own, and be"
                            + " published even if the business change rolls back. Call connection.setAutoCommit(false)"
                            + " before the business change, write it and the event on that connection, then commit.")
                    .formatted(eventType, topic, this.store.table()));
        }
        if (connection.isReadOnly()) {
            throw new IllegalStateException(("The connection given to write event '%s' to topic '%s' into outbox"
                            + " table '%s' is read-only: write the event in the transaction that makes the business"
                            + " change, on a connection with setReadOnly(false).")
                    .formatted(eventType, topic, this.store.table()));
        }
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
                        + " Make the event smaller (send a reference to large content instead), or %s.")
                .formatted(
                        eventType,
                        topic,
                        key != null ? "key '" + key + "'" : "no key",
                        size,
                        payload != null ? payload.length : 0,
                        headers.size() + 2,
                        this.maxRecordBytes,
                        this.limitSource,
                        this.raiseLimit));
    }
}
