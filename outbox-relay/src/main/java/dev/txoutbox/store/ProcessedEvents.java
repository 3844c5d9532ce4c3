package dev.txoutbox.store;

import java.time.Duration;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The event ids a consumer has processed, for processing each event once: a consumer records the id in its own
 * database transaction, together with the effects of processing, and skips ids that are recorded already.
 */
public final class ProcessedEvents {

    private final JdbcClient jdbc;

    private final OutboxDialect dialect;

    private final String markSql;

    private final String purgeSql;

    public ProcessedEvents(DataSource dataSource, OutboxDialect dialect, TableName table) {
        this.jdbc = JdbcClient.create(dataSource);
        this.dialect = dialect;
        this.markSql = dialect.markProcessed(table);
        this.purgeSql = dialect.purgeProcessed(table);
    }

    /**
     * Records an event id as processed by one consumer, in the caller's transaction. Each consumer (a read model, a
     * notifier: anything that processes the events on its own) has its own record of processed ids.
     *
     * @param consumer the consumer's name, such as its consumer group id; not blank. An id recorded before ids were
     *     kept per consumer counts as processed for every consumer.
     * @return {@code true} when the id was new for this consumer, {@code false} when it had been recorded before
     */
    public boolean markProcessed(String consumer, UUID eventId) {
        if (consumer.isBlank()) {
            throw new IllegalArgumentException(("The consumer's name is empty where event %s is recorded as processed:"
                            + " the name is what keeps the processed events of one consumer apart from another's;"
                            + " pass a name such as the listener's consumer group id")
                    .formatted(eventId));
        }
        try {
            return this.jdbc
                            .sql(this.markSql)
                            .params(consumer, this.dialect.eventId(eventId))
                            .update()
                    > 0;
        } catch (DuplicateKeyException ex) {
            if (!this.dialect.markProcessedFailsOnDuplicate()) {
                throw ex;
            }
            // The statement does not skip a recorded id itself (MariaDB, MySQL): only this statement failed, the
            // caller's transaction goes on.
            return false;
        }
    }

    /**
     * Deletes ids recorded longer ago than the retention, at most {@code limit} of them.
     *
     * @return how many it deleted
     */
    public int purgeOlderThan(Duration retention, int limit) {
        return this.jdbc.sql(this.purgeSql).params(retention.toMillis(), limit).update();
    }
}
