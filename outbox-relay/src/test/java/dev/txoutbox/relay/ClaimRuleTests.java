package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.txoutbox.relay.ClaimRule.ClaimRow;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Which claimed rows may be published now, from the rows a claim's SQL returned: rows it locked ({@link #claimed},
 * {@link #pastBudget}) and the earlier rows it read for their topic and key ({@link #earlier}), which include the
 * rows it locked itself, as the SQL reads them.
 */
class ClaimRuleTests {

    private static final int LOOK_BEHIND = 1_000;

    @Test
    void aKeyHeldElsewhereHoldsBackOnlyTheLaterClaimedRowsOfThatKey() {
        List<ClaimRow> rows = List.of(
                claimed(2, "t", "a"),
                claimed(3, "t", "b"),
                claimed(5, "t", "a"),
                earlier(2, "t", "a"),
                earlier(3, "t", "b"),
                earlier(4, "t", "a"));

        CycleStore.Claim claim = ClaimRule.apply(rows, LOOK_BEHIND);

        assertThat(ids(claim))
                .as("row 5 waits for row 4 of its key, held elsewhere; row 2 comes before it, row 3 is another key")
                .containsExactly(2L, 3L);
        assertThat(claim.locked()).isEqualTo(3);
        assertThat(claim.noFreeSlot()).isFalse();
    }

    @Test
    void theFirstRowOfAKeyHeldElsewhereIsTheOneThatHoldsItBack() {
        List<ClaimRow> rows = List.of(
                claimed(1, "t", "a"),
                claimed(4, "t", "a"),
                claimed(7, "t", "a"),
                earlier(1, "t", "a"),
                earlier(2, "t", "a"),
                earlier(4, "t", "a"),
                earlier(6, "t", "a"));

        assertThat(ids(ClaimRule.apply(rows, LOOK_BEHIND))).containsExactly(1L);
    }

    @Test
    void theSameKeyInAnotherTopicIsNotHeldBack() {
        List<ClaimRow> rows = List.of(
                claimed(2, "orders", "42"),
                claimed(3, "customers", "42"),
                earlier(1, "customers", "42"),
                earlier(2, "orders", "42"));

        CycleStore.Claim claim = ClaimRule.apply(rows, LOOK_BEHIND);

        assertThat(claim.records())
                .extracting(OutboxRecord::id, OutboxRecord::topic)
                .containsExactly(tuple(2L, "orders"));
        assertThat(claim.locked()).isEqualTo(2);
    }

    @Test
    void earlierRowsThatTheClaimLockedItselfHoldNothingBack() {
        List<ClaimRow> rows = List.of(
                claimed(1, "t", "a"),
                claimed(2, "t", "a"),
                claimed(3, "t", "a"),
                earlier(1, "t", "a"),
                earlier(2, "t", "a"));

        assertThat(ids(ClaimRule.apply(rows, LOOK_BEHIND))).containsExactly(1L, 2L, 3L);
    }

    @Test
    void rowsWithoutAKeyAreNeverHeldBackNotEvenPastAFullLookBehindWindow() {
        List<ClaimRow> rows =
                List.of(claimed(3, "t", null), claimed(9, "t", null), earlier(1, "t", "a"), earlier(2, "t", "b"));

        CycleStore.Claim claim = ClaimRule.apply(rows, 2);

        assertThat(ids(claim)).containsExactly(3L, 9L);
    }

    @Test
    void claimedRowsPastAFullLookBehindWindowWaitForALaterClaim() {
        List<ClaimRow> rows = List.of(
                claimed(10, "t", "k"),
                claimed(11, "t", "other"),
                earlier(1, "t", "x"),
                earlier(2, "t", "y"),
                earlier(3, "t", "z"));

        CycleStore.Claim claim = ClaimRule.apply(rows, 3);

        assertThat(claim.records())
                .as("the claim read as many earlier rows as it reads at most: what lies after row 3 is unknown")
                .isEmpty();
        assertThat(claim.locked()).isEqualTo(2);
    }

    @Test
    void claimedRowsWithinAFullLookBehindWindowAreStillPublished() {
        List<ClaimRow> rows = List.of(
                claimed(1, "t", "k"),
                claimed(5, "t", "k"),
                earlier(1, "t", "k"),
                earlier(2, "t", "y"),
                earlier(3, "t", "z"));

        assertThat(ids(ClaimRule.apply(rows, 3)))
                .as("row 1 lies within the rows the claim read; row 5 lies past them")
                .containsExactly(1L);
    }

    @Test
    void aFullLookBehindWindowOfTheClaimsOwnRowsStillHoldsBackTheRowsPastIt() {
        List<ClaimRow> rows = List.of(
                claimed(1, "t", "a"),
                claimed(2, "t", "b"),
                claimed(3, "t", "c"),
                earlier(1, "t", "a"),
                earlier(2, "t", "b"));

        assertThat(ids(ClaimRule.apply(rows, 2))).containsExactly(1L, 2L);
    }

    @Test
    void claimedRowsPastALookBehindWindowThatWasNotFullArePublished() {
        List<ClaimRow> rows =
                List.of(claimed(10, "t", "k"), claimed(11, "t", "other"), earlier(1, "t", "x"), earlier(2, "t", "y"));

        CycleStore.Claim claim = ClaimRule.apply(rows, 3);

        assertThat(ids(claim))
                .as("the claim read every earlier row it could have taken: none of them is of key k or other")
                .containsExactly(10L, 11L);
    }

    @Test
    void rowsPastTheByteBudgetAreLockedButNotPublished() {
        List<ClaimRow> rows = List.of(
                claimed(1, "t", "a"),
                claimed(2, "t", "b"),
                pastBudget(3, "t", "c"),
                pastBudget(4, "t", "a"),
                earlier(1, "t", "a"),
                earlier(2, "t", "b"),
                earlier(3, "t", "c"));

        CycleStore.Claim claim = ClaimRule.apply(rows, LOOK_BEHIND);

        assertThat(ids(claim)).containsExactly(1L, 2L);
        assertThat(claim.locked())
                .as("a full batch still tells itself apart from a short one")
                .isEqualTo(4);
    }

    @Test
    void thePublishableRowsComeInIdOrderWhateverOrderTheRowsCameIn() {
        List<ClaimRow> rows = List.of(
                earlier(2, "t", "b"),
                claimed(3, "t", "c"),
                claimed(1, "t", "a"),
                earlier(1, "t", "a"),
                claimed(2, "t", "b"),
                claimed(4, "t", null));

        assertThat(ids(ClaimRule.apply(rows, LOOK_BEHIND))).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void aClaimThatLockedNothingPublishesNothing() {
        CycleStore.Claim claim = ClaimRule.apply(List.of(), LOOK_BEHIND);

        assertThat(claim.records()).isEmpty();
        assertThat(claim.locked()).isZero();
        assertThat(claim.noFreeSlot()).isFalse();
    }

    private static List<Long> ids(CycleStore.Claim claim) {
        return claim.records().stream().map(OutboxRecord::id).toList();
    }

    /** A row the claim locked, within its byte budget. */
    private static ClaimRow claimed(long id, String topic, @Nullable String key) {
        OutboxRecord record = new OutboxRecord(
                id, UUID.randomUUID(), topic, key, "TestEvent", null, Map.of(), Instant.now(), 0, Instant.now());
        return new ClaimRow(id, topic, key, true, record);
    }

    /** A row the claim locked past its byte budget: without its record. */
    private static ClaimRow pastBudget(long id, String topic, String key) {
        return new ClaimRow(id, topic, key, true, null);
    }

    /** An earlier row the claim read for its topic and key. */
    private static ClaimRow earlier(long id, String topic, String key) {
        return new ClaimRow(id, topic, key, false, null);
    }
}
