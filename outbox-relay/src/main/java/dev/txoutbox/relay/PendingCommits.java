package dev.txoutbox.relay;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The committed transactions a log reader received and has not yet settled, in commit order: which ids the next
 * cycle takes, and which position may be confirmed once a cycle settled some of them. An id is settled once its row
 * is published, or once it is left to the table; ids that wait for an earlier row of their key stay, in their place.
 * A position is confirmed only once every id of its transaction, and of every transaction before it, is settled, so
 * that a reader that takes over starts at the first transaction with an id still unsettled.
 */
final class PendingCommits {

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();

    private int size;

    /** Adds a transaction received after all the others, at {@code receivedAtNanos} on {@link System#nanoTime()}. */
    void add(CommitLog.Commit commit, long receivedAtNanos) {
        if (commit.ids().length == 0) {
            return;
        }
        this.entries.addLast(new Entry(commit, receivedAtNanos));
        this.size += commit.ids().length;
    }

    /** How many ids are not settled yet. */
    int size() {
        return this.size;
    }

    boolean isEmpty() {
        return this.size == 0;
    }

    /** The first {@code max} ids not settled yet, in commit order, with when their transaction was received. */
    List<Pending> next(int max) {
        List<Pending> ids = new ArrayList<>(Math.min(max, this.size));
        for (Entry entry : this.entries) {
            long[] commitIds = entry.commit.ids();
            for (int i = 0; i < commitIds.length && ids.size() < max; i++) {
                if (!entry.settled[i]) {
                    ids.add(new Pending(commitIds[i], entry.receivedAtNanos));
                }
            }
            if (ids.size() == max) {
                break;
            }
        }
        return ids;
    }

    /**
     * Settles ids.
     *
     * @return the position to confirm now, or null when no transaction became settled in full at the head
     */
    @Nullable
    Long settle(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return null;
        }
        java.util.Set<Long> settling = ids instanceof java.util.Set<Long> set ? set : new java.util.HashSet<>(ids);
        int left = settling.size();
        for (Entry entry : this.entries) {
            long[] commitIds = entry.commit.ids();
            for (int i = 0; i < commitIds.length && left > 0; i++) {
                if (!entry.settled[i] && settling.contains(commitIds[i])) {
                    entry.settled[i] = true;
                    entry.open--;
                    this.size--;
                    left--;
                }
            }
            if (left == 0) {
                break;
            }
        }
        Long confirmable = null;
        while (!this.entries.isEmpty() && this.entries.getFirst().open == 0) {
            confirmable = this.entries.removeFirst().commit.position();
        }
        return confirmable;
    }

    /**
     * An id not settled yet.
     *
     * @param id the row's id
     * @param receivedAtNanos when its transaction was received, on {@link System#nanoTime()}'s clock
     */
    record Pending(long id, long receivedAtNanos) {}

    private static final class Entry {

        private final CommitLog.Commit commit;

        private final long receivedAtNanos;

        private final boolean[] settled;

        private int open;

        Entry(CommitLog.Commit commit, long receivedAtNanos) {
            this.commit = commit;
            this.receivedAtNanos = receivedAtNanos;
            this.settled = new boolean[commit.ids().length];
            this.open = commit.ids().length;
        }
    }
}
