package dev.txoutbox.store;

/**
 * The SQL of the outbox table for one database product. Each statement is built once, for one table name.
 *
 * <p>Parameters are positional ({@code ?}) in the order documented on each method.
 */
public interface OutboxDialect {

    /** The product name this dialect serves, as {@link java.sql.DatabaseMetaData#getDatabaseProductName()} says. */
    String productName();

    /** The folder (a classpath location) that holds this database's migrations. */
    String migrationLocation();

    /** Inserts one row: event id, topic, key, event type, payload, headers (JSON text). */
    String insert(TableName table);

    /**
     * Claims up to {@code ?} claimable rows in id order, locking them and skipping rows other relays hold. Each row
     * comes with {@code blocked_by}: the smallest id of another row of its key that this claim did not take (held by
     * another relay, waiting for a retry), or {@code NULL}.
     */
    String claim(TableName table);

    /** Deletes the rows whose ids are in the array parameter. */
    String delete(TableName table);

    /**
     * Records failed sends: arrays of ids, retry delays in milliseconds, and error texts, element by element.
     */
    String recordFailures(TableName table);

    /** Counts the rows of the table; fails when the table does not exist. */
    String count(TableName table);
}
