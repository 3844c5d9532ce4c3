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
     * Whether a failed send can never succeed, however often it is retried (the record is too large, the topic does
     * not exist, the relay is not authorized): such a record is dead-lettered at once.
     */
    default boolean isPermanent(OutboxRecord record, Throwable error) {
        return false;
    }
}
