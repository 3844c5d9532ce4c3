package dev.txoutbox.consumer;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.OutboxException;
import dev.txoutbox.store.ProcessedEvents;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The {@link Deduplicator} that keeps processed event ids in the outbox's database, in the table of processed
 * events, within the listener's transaction.
 */
final class JdbcDeduplicator implements Deduplicator {

    private final ProcessedEvents processedEvents;

    private final DataSource dataSource;

    JdbcDeduplicator(ProcessedEvents processedEvents, DataSource dataSource) {
        this.processedEvents = processedEvents;
        this.dataSource = dataSource;
    }

    @Override
    public boolean firstDelivery(String consumer, UUID eventId) {
        if (consumer.isBlank()) {
            throw new OutboxException(("Deduplicator.firstDelivery was given an empty consumer name for event %s:"
                            + " the name is what keeps one consumer's processed events apart from another's. Pass a"
                            + " name such as the listener's consumer group id.")
                    .formatted(eventId));
        }
        requireTransaction("Deduplicator.firstDelivery(" + consumer + ", " + eventId + ")");
        return this.processedEvents.markProcessed(consumer, eventId);
    }

    /**
     * Fails unless a transaction is active that holds a connection of the data source and may write: the processed
     * event id must commit together with the effects of processing.
     */
    private void requireTransaction(String origin) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new OutboxException(("%s needs an active transaction, and there is none: the processed event id must"
                            + " commit together with the effects of processing. Annotate the listener method, or a"
                            + " method that calls it, with @Transactional.")
                    .formatted(origin));
        }
        if (TransactionSynchronizationManager.isCurrentTransactionReadOnly()) {
            throw new OutboxException(("%s runs in a read-only transaction, which cannot record the processed event."
                            + " Use @Transactional without readOnly = true.")
                    .formatted(origin));
        }
        if (TransactionSynchronizationManager.getResource(this.dataSource) == null) {
            throw new OutboxException(("%s runs in a transaction that does not hold a connection of the outbox's"
                            + " DataSource, so the processed event id would not commit with the effects of"
                            + " processing. Use the transaction manager of that DataSource (JpaTransactionManager or"
                            + " DataSourceTransactionManager over it).")
                    .formatted(origin));
        }
    }
}
