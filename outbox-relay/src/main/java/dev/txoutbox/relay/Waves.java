package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxRecord;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * How a cycle splits its batch into waves: each wave holds at most one record of each topic and key, and the next
 * record of a topic and key goes out only once the broker acknowledged the one before, so that no failure, wherever
 * it happens, lets a record overtake an earlier one of its key. The unit is the topic and the key, not the key
 * alone: Kafka orders nothing across topics, so a failure of key {@code 42} in one topic has no reason to hold back
 * key {@code 42} in another.
 */
final class Waves {

    private Waves() {}

    /**
     * The next wave of {@code remaining}, leaving out the records of stopped topics and keys.
     *
     * @param remaining the records not sent yet, in id order
     * @param stopped the topics and keys that failed in this cycle: their later records wait for a later cycle
     */
    static Wave next(List<OutboxRecord> remaining, Set<TopicKey> stopped) {
        List<OutboxRecord> wave = new ArrayList<>();
        List<OutboxRecord> later = new ArrayList<>();
        Set<TopicKey> keysInWave = new HashSet<>();
        for (OutboxRecord record : remaining) {
            TopicKey key = TopicKey.of(record);
            if (key == null) {
                // A record without a key has no order to keep.
                wave.add(record);
            } else if (!stopped.contains(key)) {
                (keysInWave.add(key) ? wave : later).add(record);
            }
        }
        return new Wave(List.copyOf(wave), List.copyOf(later));
    }

    /**
     * One wave and the records left for the waves after it.
     *
     * @param records the records to send now
     * @param later the records that wait for an earlier record of their topic and key in this wave
     */
    record Wave(List<OutboxRecord> records, List<OutboxRecord> later) {}

    /** The unit of per-key order: a key within one topic. */
    record TopicKey(String topic, String key) {

        static @Nullable TopicKey of(OutboxRecord record) {
            return record.key() == null ? null : new TopicKey(record.topic(), record.key());
        }
    }
}
