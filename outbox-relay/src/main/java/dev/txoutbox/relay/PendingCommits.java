package dev.txoutbox.relay;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The committed transactions a log reader received and has not yet settled, in commit order: which ids the next
 * cycle takes, and which position may be confirmed once a cycle settled some of them. A position is confirmed only
 * once every id of its transaction, and of every transaction before it, is settled, so that a reader that takes over
 * starts at the first transaction with an id still unsettled.
 */
final class PendingCommits {

    private final ArrayDeque<CommitLog.Commit> commits = new ArrayDeque<>();

    /** How many ids of the first transaction are settled. */
    private int settledOfFirst;

    private int size;

    /** Adds a transaction received after all the others. */
    void add(CommitLog.Commit commit) {
        if (commit.ids().length == 0) {
            return;
        }
        this.commits.addLast(commit);
        this.size += commit.ids().length;
    }

    /** How many ids are not settled yet. */
    int size() {
        return this.size;
    }

    boolean isEmpty() {
        return this.size == 0;
    }

    /** The first {@code max} ids not settled yet, in commit order. */
    List<Long> next(int max) {
        List<Long> ids = new ArrayList<>(Math.min(max, this.size));
        int skip = this.settledOfFirst;
        for (CommitLog.Commit commit : this.commits) {
            for (int i = skip; i < commit.ids().length && ids.size() < max; i++) {
                ids.add(commit.ids()[i]);
            }
            skip = 0;
            if (ids.size() == max) {
                break;
            }
        }
        return ids;
    }

    /**
     * Settles the first {@code count} ids not settled yet.
     *
     * @return the position to confirm now, or null when no transaction became settled in full
     */
    @Nullable
    Long settle(int count) {
        if (count < 0 || count > this.size) {
            throw new IllegalArgumentException("Cannot settle " + count + " of " + this.size + " pending ids");
        }
        Long confirmable = null;
        int left = count;
        while (left > 0) {
            CommitLog.Commit first = this.commits.getFirst();
            int open = first.ids().length - this.settledOfFirst;
            if (left < open) {
                this.settledOfFirst += left;
                break;
            }
            left -= open;
            this.commits.removeFirst();
            this.settledOfFirst = 0;
            confirmable = first.position();
        }
        this.size -= count;
        return confirmable;
    }
}
