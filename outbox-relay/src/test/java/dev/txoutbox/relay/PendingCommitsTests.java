package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which ids a log reader takes next, and which position it may confirm, as cycles settle them. */
class PendingCommitsTests {

    private final PendingCommits pending = new PendingCommits();

    @Test
    void nextTakesIdsInCommitOrderAcrossTransactionsUpToTheBatch() {
        add(10, 1, 2, 3);
        add(20, 7);
        add(30, 5, 6);

        assertThat(ids(5)).containsExactly(1L, 2L, 3L, 7L, 5L);
        assertThat(ids(100)).containsExactly(1L, 2L, 3L, 7L, 5L, 6L);
        assertThat(this.pending.size()).isEqualTo(6);
    }

    @Test
    void aTransactionSplitByTheBatchIsConfirmedOnlyOnceAllItsIdsAreSettled() {
        add(10, 1, 2);
        add(20, 3, 4, 5);
        add(30, 6);

        assertThat(this.pending.settle(List.of(1L, 2L, 3L)))
                .as("the first transaction and part of the second")
                .isEqualTo(10L);
        assertThat(ids(2)).containsExactly(4L, 5L);
        assertThat(this.pending.settle(List.of(4L)))
                .as("the second still has an id unsettled")
                .isNull();
        assertThat(ids(10)).containsExactly(5L, 6L);
        assertThat(this.pending.settle(List.of(5L, 6L)))
                .as("the last transaction settled")
                .isEqualTo(30L);
        assertThat(this.pending.isEmpty()).isTrue();
        assertThat(ids(10)).isEmpty();
    }

    @Test
    void anIdLeftUnsettledKeepsItsPlaceAndHoldsTheConfirmationOfItsTransactionAndOfThoseAfter() {
        add(10, 1, 2);
        add(20, 3);

        assertThat(this.pending.settle(List.of(1L, 3L)))
                .as("id 2 waits for an earlier row of its key")
                .isNull();
        assertThat(ids(10)).containsExactly(2L);
        assertThat(this.pending.settle(List.of(2L)))
                .as("both transactions settled at once")
                .isEqualTo(20L);
    }

    @Test
    void settlingSeveralWholeTransactionsConfirmsTheLastOfThem() {
        add(10, 1);
        add(20, 2);
        add(30, 3, 4);

        assertThat(this.pending.settle(List.of(1L, 2L))).isEqualTo(20L);
        assertThat(this.pending.size()).isEqualTo(2);
    }

    @Test
    void settlingNothingConfirmsNothing() {
        add(10, 1);

        assertThat(this.pending.settle(List.of())).isNull();
        assertThat(ids(1)).containsExactly(1L);
    }

    @Test
    void transactionsWithoutIdsAreNotKept() {
        add(10);

        assertThat(this.pending.isEmpty()).isTrue();
        add(20, 1);
        assertThat(this.pending.settle(List.of(1L))).isEqualTo(20L);
    }

    @Test
    void nextTellsWhenEachIdsTransactionWasReceived() {
        this.pending.add(new CommitLog.Commit(10, new long[] {1}), 100);
        this.pending.add(new CommitLog.Commit(20, new long[] {2}), 200);

        assertThat(this.pending.next(2))
                .containsExactly(new PendingCommits.Pending(1, 100), new PendingCommits.Pending(2, 200));
    }

    private void add(long position, long... ids) {
        this.pending.add(new CommitLog.Commit(position, ids), 0);
    }

    private List<Long> ids(int max) {
        return this.pending.next(max).stream().map(PendingCommits.Pending::id).toList();
    }
}
