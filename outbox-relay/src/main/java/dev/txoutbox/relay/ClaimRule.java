package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which of the rows a claim locked may be published now without breaking per-key order, from the rows the claim's
 * SQL returned (see {@link OutboxDialect#claim}): the rows it locked, and after them the earlier rows that it read
 * for their topic and key only. An earlier row that the claim did not lock is held by another relay: it holds back
 * the later rows of its topic and key, and of that topic only. Past the earlier rows it read, the claim cannot tell
 * what is held elsewhere: when it read as many as it reads at most, its rows beyond the last of them wait for a later
 * claim. Rows without a key have no order to keep and are never held back. The rows past the claim's byte budget
 * stay locked, and count as locked, but are not published.
 *
 * <p>What else holds a key back is decided in the claim's SQL, before its {@code LIMIT}, and not here: a row that
 * waits for its retry, the rows behind an earlier row of their topic and key that waits for one, and, when keys are
 * parked, the rows of a topic and key that has a dead letter. Left out after the {@code LIMIT}, such rows could fill
 * every batch and starve all other keys; so the claim never returns them, and this rule never sees them.
 */
final class ClaimRule {

    private ClaimRule() {}

    /**
     * Applies the rule.
     *
     * @param rows what the claim's SQL returned, in any order
     * @param lookBehind how many earlier rows the claim reads at most ({@link OutboxDialect#CLAIM_LOOK_BEHIND})
     * @return the rows that may be published now, in id order, and how many rows the claim locked
     */
    static CycleStore.Claim apply(List<ClaimRow> rows, int lookBehind) {
        List<OutboxRecord> inBudget = new ArrayList<>(rows.size());
        Set<Long> claimedIds = new HashSet<>();
        for (ClaimRow row : rows) {
            if (row.claimed()) {
                claimedIds.add(row.id());
                if (row.record() != null) {
                    inBudget.add(row.record());
                }
            }
        }
        // The earlier rows this claim did not take are held by other relays: the first of each key holds it back.
        Map<Waves.TopicKey, Long> heldElsewhere = new HashMap<>();
        int earlier = 0;
        long lastEarlier = 0;
        for (ClaimRow row : rows) {
            if (!row.claimed()) {
                earlier++;
                lastEarlier = Math.max(lastEarlier, row.id());
                if (!claimedIds.contains(row.id())) {
                    heldElsewhere.merge(
                            new Waves.TopicKey(row.topic(), Objects.requireNonNull(row.key())), row.id(), Math::min);
                }
            }
        }
        // Past the rows the claim read, what is held elsewhere is unknown: claimed rows there wait.
        long readUpTo = earlier < lookBehind ? Long.MAX_VALUE : lastEarlier;
        inBudget.sort(Comparator.comparingLong(OutboxRecord::id));
        List<OutboxRecord> publishable = new ArrayList<>(inBudget.size());
        for (OutboxRecord record : inBudget) {
            if (record.key() == null) {
                publishable.add(record);
                continue;
            }
            Long elsewhere = heldElsewhere.get(new Waves.TopicKey(record.topic(), record.key()));
            boolean blocked = (elsewhere != null && elsewhere < record.id()) || record.id() > readUpTo;
            if (!blocked) {
                publishable.add(record);
            }
        }
        return new CycleStore.Claim(publishable, claimedIds.size());
    }

    /**
     * A row the claim's SQL returned: a row it locked, with its record when it is within the claim's byte budget, or
     * an earlier row that it read for its topic and key only (never one without a key).
     *
     * @param id the row's id
     * @param topic the row's topic
     * @param key the row's key
     * @param claimed whether the claim locked the row ({@code false} for the earlier rows it read)
     * @param record the row to publish, for a locked row within the byte budget; {@code null} otherwise
     */
    record ClaimRow(
            long id,
            String topic,
            @Nullable String key,
            boolean claimed,
            @Nullable OutboxRecord record) {}
}
