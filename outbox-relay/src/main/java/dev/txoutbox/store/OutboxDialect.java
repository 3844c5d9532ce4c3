package dev.txoutbox.store;

/**
 * The SQL of the outbox tables for one database product. Each statement is built once, for one table name; the
 * dead-letter and processed-event tables are named after it ({@link TableName#deadLetters()},
 * {@link TableName#processed()}).
 *
 * <p>Parameters are positional ({@code ?}) in the order documented on each method.
 */
public interface OutboxDialect {

    /** The product name this dialect serves, as {@link java.sql.DatabaseMetaData#getDatabaseProductName()} says. */
    String productName();

    /** The oldest major version of the product that the statements work on. */
    int minimumMajorVersion();

    /** The folder (a classpath location) that holds this database's migrations. */
    String migrationLocation();

    /**
     * Inserts one row: topic, key, then event id, topic, key, event type, payload, headers (JSON text). Writers of one
     * key of one topic are serialized until they commit, so that the ids of a topic's key follow the commit order of
     * its transactions.
     */
    String insert(TableName table);

    /**
     * Claims up to {@code ?} (first parameter) claimable rows in id order, locking them and skipping rows other
     * relays hold. Rows whose key waits (an earlier row of its topic and key waits for a retry; with {@code
     * parkKeys}, its topic and key have a dead letter) are not claimed. The claimed rows come with {@code claimed =
     * true}; those of the id-ordered prefix whose payloads, keys and headers add up to at most {@code ?} (second
     * parameter) bytes, and always the first, come with {@code in_budget = true}, the others without payload and
     * headers. After them, in the same snapshot, come up to {@link #CLAIM_LOOK_BEHIND} rows that the claim could
     * have taken (only {@code id}, {@code topic} and {@code record_key}, {@code claimed = false}) with a key and an
     * id below the last one claimed, in id order: those that the claim did not take are held elsewhere.
     */
    String claim(TableName table, boolean parkKeys);

    /**
     * The statement that starts a relay cycle's transaction, before the claim. Unless its first parameter is true, it
     * lets this transaction commit without waiting for the commit's flush to disk, where the database can do so for
     * one transaction (see {@code RelaySettings#synchronousCommit()}). It keeps the server's idle-in-transaction and
     * transaction timeouts, for this transaction only, from ending it before the relay's own bound on it (the second
     * parameter, in milliseconds). It takes one of the table's cycle slots (the parameters after it: the number of
     * slots, the table's name) for as long as the transaction lasts, and
     * returns one row whose column {@code slot} is the slot taken, or NULL when every slot is taken. And it makes
     * the claim and what follows it in the transaction (the delete, the failures) read the outbox table only through
     * its indexes, with plans that suit it at any size. A queue table swings between empty and large: a plan made and
     * cached while it was empty, and reused once it is large, can scan the whole table for every row.
     */
    String startCycle();

    /**
     * The statement that makes a relay cycle's transaction wait at its commit for the flush that the server's settings
     * ask for, after {@link #startCycle()} let it commit without waiting: for a cycle that recorded failed sends,
     * whose holds on records still in flight must outlive a crash of the database.
     */
    String waitForCommitFlush();

    /** How many earlier rows a claim reads at most, see {@link #claim(TableName, boolean)}. */
    int CLAIM_LOOK_BEHIND = 50_000;

    /** Deletes the rows whose ids are in the array parameter. */
    String delete(TableName table);

    /**
     * Deletes the rows whose ids are in the array parameter and that no other transaction holds, without waiting
     * for any lock.
     */
    String deleteUnlocked(TableName table);

    /**
     * Locks, and returns the ids of, the rows whose ids are in the array parameter and that no other transaction
     * holds, without waiting for any lock.
     */
    String lockUnlocked(TableName table);

    /** Records failed sends: arrays of ids, retry delays in milliseconds, and error texts, element by element. */
    String recordFailures(TableName table);

    /** Moves rows to the dead-letter table: arrays of ids and error texts, element by element. */
    String deadLetter(TableName table);

    /** Counts the rows of the table; fails when the table does not exist. */
    String count(TableName table);

    /**
     * Vacuums the table, outside a transaction, unless something holds a lock on it that conflicts with a vacuum's
     * (another vacuum, say); the database answers that with a warning of state {@link #VACUUM_BUSY}. A user who
     * may not vacuum the table gets a warning too, of another state.
     */
    String vacuum(TableName table);

    /** The SQL state of the warning of a vacuum that skipped a table because of a conflicting lock. */
    String VACUUM_BUSY = "55P03";

    /**
     * Reads, in one statement: {@code waiting} rows, the creation time of the {@code oldest} row the relay could
     * publish now (not waiting for a retry nor behind a key that waits for one; with {@code parkKeys}, not behind a
     * dead letter), the number of {@code dead_letters}, the number of {@code parked_keys} (distinct topics and keys
     * among them), and {@code read_at}.
     */
    String statistics(TableName table, boolean parkKeys);

    /** Lists up to {@code ?} (second) dead letters with an id above {@code ?} (first) in id order, without payloads. */
    String listDeadLetters(TableName table);

    /** Moves the dead letter with id {@code ?} back into the outbox, with its old id and no attempts. */
    String requeueDeadLetter(TableName table);

    /**
     * Moves the dead letters of a topic and a key back into the outbox, with their old ids and no attempts, returning
     * their ids. The parameters: topic, topic, key, key; a NULL topic or key matches any.
     */
    String requeueDeadLetters(TableName table);

    /** Deletes the dead letter with id {@code ?}. */
    String discardDeadLetter(TableName table);

    /**
     * Deletes the dead letters of a topic and a key, returning their ids. The parameters: topic, topic, key, key; a
     * NULL topic or key matches any.
     */
    String discardDeadLetters(TableName table);

    /**
     * Records event id {@code ?} (second) as processed by consumer {@code ?} (first) unless it is there already,
     * for that consumer or for all of them; updates one row when the id was new.
     */
    String markProcessed(TableName table);

    /** Deletes up to {@code ?} (second) processed-event ids older than {@code ?} (first) milliseconds. */
    String purgeProcessed(TableName table);

    /**
     * Tells the relays of the table, in every instance that listens, that rows were committed; the parameter is the
     * sender's instance id, so that an instance can ignore its own notifications. Delivered when the statement's
     * transaction commits: send it outside the transaction that wrote the rows.
     */
    String notifyWakeUp(TableName table);

    /** Starts listening, in the current session, for the notifications that {@link #notifyWakeUp} sends. */
    String listenForWakeUps(TableName table);

    /** Stops listening for them, before the session goes back to a pool. */
    String unlistenWakeUps(TableName table);
}
