package dev.txoutbox.store;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The SQL of the outbox tables for one database product. Each statement is built once, for one table name; the
 * dead-letter and processed-event tables are named after it ({@link TableName#deadLetters()},
 * {@link TableName#processed()}).
 *
 * <p>Parameters are positional ({@code ?}) in the order documented on each method, or named ({@code :ids}) where a
 * method says so: a statement may leave out a named parameter it has no use for. An array parameter is bound as
 * {@link #array(String, Object[])} makes it. Where a method returns several statements, they run in that order in
 * one transaction, with the same named parameters. Times come back as
 * microseconds since the epoch, in columns whose names end in {@code _micros}: read that way, they do not depend on
 * the time zones of the session, the server and this JVM.
 */
public interface OutboxDialect {

    /** The product name this dialect serves, as {@link java.sql.DatabaseMetaData#getDatabaseProductName()} says. */
    String productName();

    /** The oldest major version of the product that the statements work on. */
    int minimumMajorVersion();

    /** The oldest minor version, of {@link #minimumMajorVersion()}, that the statements work on. */
    default int minimumMinorVersion() {
        return 0;
    }

    /** The oldest patch version, of that minor version, that the statements and migrations work on. */
    default int minimumPatchVersion() {
        return 0;
    }

    /**
     * Whether {@link #markProcessed(TableName)} fails with a duplicate key, in that statement only, on an id recorded
     * before, rather than skipping it.
     */
    default boolean markProcessedFailsOnDuplicate() {
        return false;
    }

    /** The folder (a classpath location) that holds this database's migrations. */
    String migrationLocation();

    /** Values for the placeholders of the migrations besides the table's name, such as a collation. */
    default Map<String, String> migrationPlaceholders() {
        return Map.of();
    }

    /**
     * Inserts one row: {@code :eventId}, {@code :topic}, {@code :key}, {@code :eventType}, {@code :payload}, {@code
     * :headers} (JSON text). Writers of one
     * key of one topic are serialized until they commit, so that the ids of a topic's key follow the commit order of
     * its transactions: by this statement itself, or by {@link #lockKey(TableName)} run just before it.
     */
    String insert(TableName table);

    /**
     * Inserts one row as {@link #insert(TableName)} does, but without making the writers of one key take turns: for
     * a table that a relay reads from the database's log of commits, which orders them by commit itself. Only
     * dialects that can read that log have it.
     *
     * @throws UnsupportedOperationException for a database whose log the relay cannot read
     */
    default String insertWithoutKeyLock(TableName table) {
        throw new UnsupportedOperationException(
                "Writing without key locks is for the relay's log mode, which " + productName() + " does not have");
    }

    /**
     * The statement that a writer runs just before {@link #insert(TableName)} in its transaction, to wait for the
     * other writers of the topic and key and hold them off until it commits: it takes the lock that
     * {@link #keyLock(String, String)} names, bound as {@code :keyLock} (with the insert's own arguments, among them
     * {@code :topic} and {@code :key}); it does not run for a NULL key. Null where the insert takes that lock itself.
     */
    @Nullable
    String lockKey(TableName table);

    /**
     * The lock that a writer of a key of a topic takes (see {@link #lockKey(TableName)}): equal for two keys exactly
     * when their writers wait for each other.
     */
    default Object keyLock(String topic, String key) {
        return topic + " " + key;
    }

    /** How an event id is bound as a parameter. */
    Object eventId(UUID eventId);

    /**
     * An array parameter of elements of a type ({@code bigint} or {@code text}), as the statements of this dialect
     * read one.
     */
    Object array(String elementType, Object[] values);

    /**
     * Claims up to {@code :limit} claimable rows in id order, locking them and skipping rows other
     * relays hold. Rows whose key waits (an earlier row of its topic and key waits for a retry; with {@code
     * parkKeys}, its topic and key have a dead letter) are not claimed. The claimed rows come with {@code claimed =
     * true}; those of the id-ordered prefix whose payloads, keys and headers add up to at most {@code :maxBytes} bytes,
     * and always the first, come with {@code in_budget = true}, the others without payload and
     * headers. After them, in the same snapshot, come up to {@link #CLAIM_LOOK_BEHIND} rows that the claim could
     * have taken (only {@code id}, {@code topic} and {@code record_key}, {@code claimed = false}) with a key and an
     * id below the last one claimed, in id order: those that the claim did not take are held elsewhere; unless
     * {@link #lookBehind(TableName, boolean)} reads them.
     */
    String claim(TableName table, boolean parkKeys);

    /**
     * Claims the claimable rows among given ids, for a relay that learned of them from the database's log: the array
     * {@code :ids}, in the order the rows committed (an id may come twice: the claim takes its row once). Rows that
     * are gone, that other transactions hold, or whose key waits (as in {@link #claim(TableName, boolean)}) are not
     * claimed. The claimed rows come locked, in the order of {@code :ids}, except that the rows of a topic and key that
     * were tried before (that have an error) come first of their key, in id order; with the columns of
     * {@link #claim(TableName, boolean)}. {@code in_budget} marks the prefix, in that order, whose sizes add up to at
     * most {@code :maxBytes} (always the first row), and {@code claimed} is false for a row that an earlier row of its
     * topic and key, not among the rows claimed, holds back: it must wait for it.
     *
     * @throws UnsupportedOperationException for a database whose log the relay cannot read
     */
    default String claimIds(TableName table, boolean parkKeys) {
        throw new UnsupportedOperationException("The relay's log mode is for PostgreSQL, not " + productName());
    }

    /**
     * Null where {@link #claim(TableName, boolean)} returns the rows that it could have taken itself; otherwise the
     * statement that reads them, run right after the claim in its transaction: up to {@link #CLAIM_LOOK_BEHIND} rows
     * with a key and an id below {@code :lastId} that a claim could take, in id order, with the columns the claim
     * gives them. It must see every row that the claim saw, and rows that other transactions hold. Since other
     * transactions may commit between the two statements, it also returns the earlier rows of the claimed rows'
     * topics and keys (the claimed ids are the array {@code :ids}) that have begun to hold their key back since: a
     * row that waits for its retry, and, with {@code parkKeys}, a dead letter.
     */
    @Nullable
    String lookBehind(TableName table, boolean parkKeys);

    /**
     * The statement that starts a relay cycle's transaction, before the claim. Unless {@code :synchronousCommit}, it
     * lets this transaction commit without waiting for the commit's flush to disk, where the database can do so for
     * one transaction (see {@code RelaySettings#synchronousCommit()}). It keeps the server's idle-in-transaction and
     * transaction timeouts, for this transaction only, from ending it before the relay's own bound on it ({@code
     * :timeoutMillis}), where the database has such timeouts. It takes one of the table's cycle slots ({@code :slots},
     * at most 1024, of the table {@code :table}) for as long as the transaction lasts, and
     * returns one row whose column {@code slot} is the slot taken, or NULL when every slot is taken (or no row), and,
     * where {@link #startCycleReportsIsolation()}, whose column {@code isolation} is the transaction's isolation level
     * as the database names it ({@code read committed}, {@code READ-COMMITTED}). And it makes
     * the claim and what follows it in the transaction (the delete, the failures) read the outbox table only through
     * its indexes, with plans that suit it at any size. A queue table swings between empty and large: a plan made and
     * cached while it was empty, and reused once it is large, can scan the whole table for every row.
     */
    String startCycle(TableName table);

    /**
     * Whether {@link #startCycle(TableName)} returns the transaction's isolation level: then the relay's cycles take
     * the DataSource's level when it is READ COMMITTED, rather than have the driver asked for it in every cycle (a
     * round trip to the server with PostgreSQL's and MySQL's drivers). Otherwise every cycle sets READ COMMITTED.
     */
    default boolean startCycleReportsIsolation() {
        return false;
    }

    /**
     * The statement that makes a relay cycle's transaction wait at its commit for the flush that the server's settings
     * ask for, after {@link #startCycle(TableName)} let it commit without waiting: for a cycle that recorded failed sends,
     * whose holds on records still in flight must outlive a crash of the database. Null where every commit waits for
     * its flush as the server's settings say.
     */
    @Nullable
    String waitForCommitFlush();

    /** How many earlier rows a claim reads at most, see {@link #claim(TableName, boolean)}. */
    int CLAIM_LOOK_BEHIND = 50_000;

    /** Deletes the rows whose ids are in the array {@code :ids}. */
    String delete(TableName table);

    /**
     * Locks, and returns the ids of, the rows whose ids are in the array {@code :ids} and that no other transaction
     * holds, without waiting for any lock.
     */
    String lockUnlocked(TableName table);

    /**
     * Records failed sends: the arrays {@code :ids}, {@code :delays} (retry delays in milliseconds) and {@code
     * :errors}, element by element.
     */
    String recordFailures(TableName table);

    /** Moves rows to the dead-letter table: the arrays {@code :ids} and {@code :errors}, element by element. */
    List<String> deadLetter(TableName table);

    /** Counts the rows of the table; fails when the table does not exist. */
    String count(TableName table);

    /**
     * Lists up to {@code ?} (second) rows of the table with an id above {@code ?} (first), in id order, with their
     * payloads, headers (as JSON text) and retry state: what tests and diagnostics read, never the relay.
     */
    default String listRows(TableName table) {
        return """
                SELECT id, event_id, topic, record_key, event_type, payload, headers, attempts, last_error
                FROM %s
                WHERE id > ?
                ORDER BY id
                LIMIT ?
                """.formatted(table);
    }

    /** Reads the highest id of the table's rows, 0 when it has none. */
    default String highestId(TableName table) {
        return "SELECT COALESCE(MAX(id), 0) FROM %s".formatted(table);
    }

    /**
     * Vacuums the table, outside a transaction, unless something holds a lock on it that conflicts with a vacuum's
     * (another vacuum, say); the database answers that with a warning of state {@link #VACUUM_BUSY}. A user who
     * may not vacuum the table gets a warning too, of another state. Null for a database that purges deleted rows
     * on its own.
     */
    @Nullable
    String vacuum(TableName table);

    /** The SQL state of the warning of a vacuum that skipped a table because of a conflicting lock. */
    String VACUUM_BUSY = "55P03";

    /**
     * Reads, in one statement: {@code waiting} rows, the creation time of the {@code oldest_micros} row the relay could
     * publish now (not waiting for a retry nor behind a key that waits for one; with {@code parkKeys}, not behind a
     * dead letter), the number of {@code dead_letters}, the number of {@code parked_keys} (distinct topics and keys
     * among them), and the database's time, {@code read_at_micros}.
     */
    String statistics(TableName table, boolean parkKeys);

    /** Lists up to {@code ?} (second) dead letters with an id above {@code ?} (first) in id order, without payloads. */
    String listDeadLetters(TableName table);

    /**
     * Locks, and returns the ids of, the dead letters of the topic {@code :topic} and the key {@code :key}; a NULL
     * topic or key matches any.
     */
    String lockDeadLetters(TableName table);

    /**
     * Moves the dead letters whose ids are in the array {@code :ids} back into the outbox, with their old ids and no
     * attempts; the first statement's count is how many it moved.
     */
    List<String> requeueDeadLetters(TableName table);

    /** Deletes the dead letters whose ids are in the array {@code :ids}. */
    String discardDeadLetters(TableName table);

    /**
     * Records event id {@code ?} (second) as processed by consumer {@code ?} (first) unless it is there already,
     * for that consumer or for all of them; updates one row when the id was new. Where the database cannot skip a
     * duplicate without hiding other errors, it may fail with a duplicate key instead, in that statement only.
     */
    String markProcessed(TableName table);

    /** Deletes up to {@code ?} (second) processed-event ids older than {@code ?} (first) milliseconds. */
    String purgeProcessed(TableName table);

    /**
     * Whether {@link #notifyWakeUp(TableName)} and {@link #listenForWakeUps(TableName)} exist: whether a commit in
     * one instance can wake the relays of the others; without them, those relays find the rows at their next poll.
     */
    boolean wakesOtherInstances();

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
