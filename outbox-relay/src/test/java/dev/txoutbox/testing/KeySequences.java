package dev.txoutbox.testing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What a consumer that de-duplicates on the event id sees of records whose payload is {@code {"seq":n}}: per key,
 * the sequence numbers of the first delivery of each event, in the order they arrived.
 */
public final class KeySequences {

    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    private final Map<String, List<Integer>> firstDeliveries = new LinkedHashMap<>();

    private int duplicates;

    public KeySequences(List<ConsumerRecord<String, byte[]>> records) {
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            String eventId = new String(
                    record.headers().lastHeader(OutboxHeaders.EVENT_ID).value(), StandardCharsets.UTF_8);
            if (!seen.add(eventId)) {
                this.duplicates++;
                continue;
            }
            Matcher seq = SEQ.matcher(new String(record.value(), StandardCharsets.UTF_8));
            if (!seq.find()) {
                throw new IllegalArgumentException("no seq in " + record);
            }
            this.firstDeliveries
                    .computeIfAbsent(record.key(), key -> new ArrayList<>())
                    .add(Integer.parseInt(seq.group(1)));
        }
    }

    /** Per key, the sequence numbers in order of first delivery. */
    public Map<String, List<Integer>> firstDeliveries() {
        return this.firstDeliveries;
    }

    /** The keys whose sequence is not 0, 1, ..., {@code perKey - 1}: missing, or out of order. */
    public List<String> keysNotCompleteAndInOrder(int perKey) {
        List<String> broken = new ArrayList<>();
        this.firstDeliveries.forEach((key, seqs) -> {
            for (int i = 0; i < perKey; i++) {
                if (seqs.size() != perKey || seqs.get(i) != i) {
                    broken.add(key + "=" + seqs);
                    return;
                }
            }
        });
        return broken;
    }

    /** How many deliveries repeated an event already delivered. */
    public int duplicates() {
        return this.duplicates;
    }
}
