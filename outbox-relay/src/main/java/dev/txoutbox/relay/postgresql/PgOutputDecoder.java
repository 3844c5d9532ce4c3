package dev.txoutbox.relay.postgresql;

import dev.txoutbox.relay.CommitLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decodes the messages of PostgreSQL's built-in {@code pgoutput} plugin, protocol version 1, into the ids of the rows
 * each committed transaction inserted into one table. It keeps what the stream told before: the columns of each
 * relation, and the transaction in progress. Messages it has no use for (origins, types, updates, deletes,
 * truncations, logical messages) are skipped; a message it does not know, or an insert outside a transaction, is a
 * protocol it cannot follow, and fails.
 */
final class PgOutputDecoder {

    private final long tableOid;

    private final String idColumn;

    /** For each relation the stream described, the index of its id column, or -1 when it is not the table. */
    private final Map<Integer, Integer> idIndexes = new HashMap<>();

    private long @Nullable [] ids;

    private int count;

    /**
     * Creates a decoder.
     *
     * @param tableOid the oid of the outbox table, whose inserts count
     * @param idColumn the name of its id column
     */
    PgOutputDecoder(long tableOid, String idColumn) {
        this.tableOid = tableOid;
        this.idColumn = idColumn;
    }

    /** Whether a transaction began and did not commit yet. */
    boolean inTransaction() {
        return this.ids != null;
    }

    /**
     * Takes the next message.
     *
     * @return the transaction that the message committed, with the ids of the rows it inserted into the table (none
     *     for a transaction of other tables); null for any other message
     */
    CommitLog.@Nullable Commit accept(ByteBuffer message) {
        byte type = message.get();
        switch (type) {
            case 'B' -> {
                this.ids = new long[16];
                this.count = 0;
                return null;
            }
            case 'R' -> {
                relation(message);
                return null;
            }
            case 'I' -> {
                insert(message);
                return null;
            }
            case 'C' -> {
                return commit(message);
            }
            case 'O', 'Y', 'U', 'D', 'T', 'M' -> {
                return null;
            }
            default ->
                throw new IllegalStateException(
                        "Unknown pgoutput message type '" + (char) type + "' (" + type + ") in the replication stream");
        }
    }

    private void relation(ByteBuffer message) {
        int relationId = message.getInt();
        string(message); // namespace
        string(message); // relation name
        message.get(); // replica identity
        int columns = message.getShort();
        int idIndex = -1;
        for (int i = 0; i < columns; i++) {
            message.get(); // flags
            String name = string(message);
            message.getInt(); // type oid
            message.getInt(); // type modifier
            if (name.equals(this.idColumn)) {
                idIndex = i;
            }
        }
        boolean table = Integer.toUnsignedLong(relationId) == this.tableOid;
        if (table && idIndex < 0) {
            throw new IllegalStateException(
                    "The outbox table's relation in the replication stream has no column '" + this.idColumn + "'");
        }
        this.idIndexes.put(relationId, table ? idIndex : -1);
    }

    private void insert(ByteBuffer message) {
        long[] current = this.ids;
        if (current == null) {
            throw new IllegalStateException("An insert outside a transaction in the replication stream");
        }
        int relationId = message.getInt();
        Integer idIndex = this.idIndexes.get(relationId);
        if (idIndex == null) {
            if (Integer.toUnsignedLong(relationId) != this.tableOid) {
                return;
            }
            throw new IllegalStateException(
                    "An insert into the outbox table came before the description of its columns in the stream");
        }
        if (idIndex < 0) {
            return;
        }
        message.get(); // 'N': a new tuple
        int columns = message.getShort();
        for (int i = 0; i < columns; i++) {
            byte kind = message.get();
            if (kind == 'n' || kind == 'u') {
                if (i == idIndex) {
                    throw new IllegalStateException("An insert into the outbox table without an id");
                }
                continue;
            }
            int length = message.getInt();
            if (i == idIndex) {
                byte[] text = new byte[length];
                message.get(text);
                if (this.count == current.length) {
                    current = java.util.Arrays.copyOf(current, current.length * 2);
                    this.ids = current;
                }
                current[this.count++] = Long.parseLong(new String(text, StandardCharsets.US_ASCII));
                return;
            }
            message.position(message.position() + length);
        }
    }

    private CommitLog.@Nullable Commit commit(ByteBuffer message) {
        long[] current = this.ids;
        this.ids = null;
        message.get(); // flags
        message.getLong(); // the commit's own position
        long end = message.getLong();
        if (current == null) {
            return null;
        }
        // A transaction without rows of the table still tells how far the log went (before PostgreSQL 15, pgoutput
        // sends the begin and commit of every transaction of the database).
        return new CommitLog.Commit(end, java.util.Arrays.copyOf(current, this.count));
    }

    private static String string(ByteBuffer message) {
        int start = message.position();
        while (message.get() != 0) {
            // up to the terminating zero byte
        }
        byte[] bytes = new byte[message.position() - start - 1];
        message.get(start, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
