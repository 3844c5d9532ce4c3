package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.util.concurrent.CompletableFuture;

/**
 * Sends outbox records to the broker. The relay calls {@link #publish} for every record of a batch first and then
 * waits for the futures, so an implementation should send asynchronously.
 */
@FunctionalInterface
public interface RecordPublisher {

    /**
     * Starts sending one record.
     *
     * @return a future that completes when the broker acknowledged the record, or completes exceptionally when it
     *     will not
     */
    CompletableFuture<?> publish(OutboxRecord record);

    /**
     * The relay has handed over every record it is about to wait for, and no more are coming soon: its claim did not
     * fill a batch, so no backlog waits behind them. A publisher that holds records back to gather larger requests (a
     * Kafka producer's {@code linger.ms}) may send what it holds now instead of waiting for records that are not
     * coming. Not called while the relay drains a backlog, where full cycles follow one another and gathering pays.
     * Must not block, and should not throw: the relay logs what it throws and waits for the records as it would
     * have. Does nothing by default.
     */
    default void sendBuffered() {}

    /**
     * What a failed send says about the record: whether it can never be published ({@link FailureKind#PERMANENT}),
     * whether its destination is not available now ({@link FailureKind#UNAVAILABLE}), or neither
     * ({@link FailureKind#TRANSIENT}, the default). Called outside the relay's database transaction where it can be;
     * it must not block for long.
     */
    default FailureKind classify(OutboxRecord record, Throwable error) {
        return FailureKind.TRANSIENT;
    }

    /**
     * How long after {@link #publish} a record may still be written to the broker, also when the relay stopped waiting
     * for its acknowledgement: a row whose record was sent but not acknowledged is not claimed again before this time
     * has passed since the send, so that no copy of it lands after a later record of its key. Zero (the default) for
     * a publisher that never writes a record after its future completed exceptionally.
     */
    default java.time.Duration maxDeliveryTime() {
        return java.time.Duration.ZERO;
    }

    /**
     * Whether a record whose send failed with {@code error} may still be written to the broker: the publisher gave up
     * waiting for it, but the request that carries it may already be on its way (a Kafka producer expiring a batch
     * after {@code delivery.timeout.ms}, say). The relay then holds the record's row back as one still in flight, until
     * {@link #maxDeliveryTime()} has passed since the send, so that no late copy of it lands after a later record of
     * its key. False (the default) when a failed future means the record was not and will not be written. Called
     * outside the relay's database transaction where it can be; it must not block.
     */
    default boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
        return false;
    }
}
