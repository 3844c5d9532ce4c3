package dev.txoutbox.autoconfigure;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics whose sends fail now because the destination is not available (the broker is unreachable, a partition
 * has no leader, the topic does not exist yet, the relay may not write to it), each with the time of the first
 * failure of the current outage and its last error. A topic leaves the list as soon as a record of it is
 * acknowledged. Safe to use from any thread.
 */
final class UnavailableTopics {

    private final Map<String, Outage> outages = new ConcurrentHashMap<>();

    /** A send to the topic failed as unavailable. */
    void failed(String topic, String error, Instant at) {
        this.outages.compute(topic, (name, outage) -> new Outage(outage != null ? outage.since() : at, error));
    }

    /** A record of the topic was acknowledged: the topic takes records again. */
    void acknowledged(String topic) {
        if (!this.outages.isEmpty()) {
            this.outages.remove(topic);
        }
    }

    /** The topics unavailable now, by name. */
    Map<String, Outage> current() {
        return new TreeMap<>(this.outages);
    }

    /** How many topics are unavailable now. */
    int count() {
        return this.outages.size();
    }

    /**
     * An outage of one topic.
     *
     * @param since when the first send of the outage failed
     * @param error the last send's error
     */
    record Outage(Instant since, String error) {}
}
