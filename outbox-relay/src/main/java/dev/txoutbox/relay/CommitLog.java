package dev.txoutbox.relay;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The database's log of committed inserts into the outbox table, read in commit order, for a relay in log mode (see
 * {@link OutboxRelay#tailing}). One reader at a time: the log itself refuses a second, which waits as a standby. The
 * reader confirms the positions it is done with, and a reader opened later starts after the last confirmed one.
 */
public interface CommitLog {

    /** What the log is, for the relay's lines: its slot, say. */
    String describe();

    /**
     * Opens the log for reading, from the position confirmed last.
     *
     * @throws HeldElsewhereException while another reader reads it
     * @throws LostException when the log can no longer give what was confirmed last
     * @throws Exception when the database cannot be reached, or refuses
     */
    Reader open() throws Exception;

    /**
     * Starts the log anew from now, after it was {@linkplain LostException lost}: what was committed before is
     * still in the table, where the relay's polls find it.
     */
    void restart() throws Exception;

    /** Reads the log; one thread polls, any thread may close it. */
    interface Reader extends AutoCloseable {

        /**
         * The next committed transaction that inserted rows, waiting up to {@code timeout}; null when none came.
         *
         * @throws Exception when the connection to the log was lost; the reader is then of no further use
         */
        @Nullable
        Commit poll(Duration timeout) throws Exception;

        /**
         * Confirms that everything up to and including the transaction at {@code position} is done with (published,
         * or left to the table): the log may drop it, and a reader opened later starts after it.
         */
        void confirm(long position);

        /**
         * Whether the log began with this reader (a slot just made, or made anew after it was lost): rows committed
         * before it are only in the table, which the reader then polls before it reads the log.
         */
        default boolean fresh() {
            return false;
        }

        /** Stops reading and lets another reader take the log. */
        @Override
        void close();
    }

    /**
     * A committed transaction's inserts into the outbox table.
     *
     * @param position the log's position of the end of the transaction, to {@linkplain Reader#confirm confirm}
     * @param ids the ids of the rows it inserted, in the order it inserted them
     */
    record Commit(long position, long[] ids) {}

    /** Another reader reads the log now: this one waits as a standby. */
    final class HeldElsewhereException extends Exception {

        private static final long serialVersionUID = 1L;

        /** Creates the exception. */
        public HeldElsewhereException(String message, @Nullable Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The log no longer holds what its reader confirmed last (a PostgreSQL slot that passed {@code
     * max_slot_wal_keep_size}, say): reading it would miss transactions, which only the table still has.
     */
    final class LostException extends Exception {

        private static final long serialVersionUID = 1L;

        /** Creates the exception. */
        public LostException(String message, @Nullable Throwable cause) {
            super(message, cause);
        }
    }
}
