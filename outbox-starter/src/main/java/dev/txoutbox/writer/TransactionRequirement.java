package dev.txoutbox.writer;

import dev.txoutbox.OutboxException;
import javax.sql.DataSource;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/** Checks that work on the outbox tables joins the caller's transaction. */
final class TransactionRequirement {

    private TransactionRequirement() {}

    /**
     * Fails unless a transaction is active that holds a connection of the data source and may write.
     *
     * @param dataSource the data source of the outbox tables
     * @param origin who asks, for the message, such as {@code @OutboxEvent method OrderService.placeOrder(..)}
     * @param why why a transaction is needed, for the message
     * @throws OutboxException when there is no such transaction
     */
    static void require(DataSource dataSource, String origin, String why) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new OutboxException("%s needs an active transaction, and there is none: %s. Annotate the method, or a"
                            .formatted(origin, why)
                    + " method that calls it, with @Transactional.");
        }
        if (TransactionSynchronizationManager.isCurrentTransactionReadOnly()) {
            throw new OutboxException(("%s runs in a read-only transaction, which cannot write to the outbox tables."
                            + " Use @Transactional without readOnly = true.")
                    .formatted(origin));
        }
        if (TransactionSynchronizationManager.getResource(dataSource) == null) {
            throw new OutboxException(("%s runs in a transaction that does not hold a connection of the outbox's"
                            + " DataSource, so its write would not commit with it. Use the transaction manager of"
                            + " that DataSource (JpaTransactionManager or DataSourceTransactionManager over it).")
                    .formatted(origin));
        }
    }
}
