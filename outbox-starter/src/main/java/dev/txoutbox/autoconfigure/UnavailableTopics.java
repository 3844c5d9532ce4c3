package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.RelaySettings;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The topics whose sends fail now because the destination is not available (the broker is unreachable, a partition
 * has no leader, the topic does not exist yet, the relay may not write to it), each with the time of the first
 * failure of the current outage and its last error. Safe to use from any thread.
 *
 * <p>What is seen here is only this instance's part of the traffic, and the relay tells which topic a send went to
 * but not which partition. So the list rests on one period, the <em>retry period</em>: the relay's longest retry delay
 * ({@code outbox.relay.retry.max-delay}) plus its send timeout. A record of a topic that is still unavailable is
 * retried at the latest a retry delay after its failure, and that retry fails at the latest a send timeout later:
 * <ul>
 *   <li>A topic leaves the list when no send of it failed as unavailable for two retry periods, one to wait for the
 *       retry and one more for a retry that another instance claimed or a busy relay ran late. Without that, an
 *       instance whose failed record another instance retried successfully would list the topic forever.
 *   <li>A failure after the topic left the list starts a new outage: its {@code since} is the time of that failure,
 *       not of an outage that ended long ago.
 *   <li>An acknowledged record of the topic takes it off the list only when its last failure is older than one retry
 *       period. A record acknowledged sooner may have gone to another partition than the one that failed (a partition
 *       without a leader among several with one), whose records fail again when their retry comes; were the topic
 *       taken off at every acknowledgement, it would come and go with every send of the other partitions.
 * </ul>
 */
final class UnavailableTopics {

    private final Map<String, Outage> outages = new ConcurrentHashMap<>();

    private final Clock clock;

    private final Duration retryPeriod;

    /**
     * @param clock the clock that dates failures and tells when they are old
     * @param retryPeriod the longest a retry of a failed record takes to fail again, see the class's description
     */
    UnavailableTopics(Clock clock, Duration retryPeriod) {
        this.clock = clock;
        this.retryPeriod = retryPeriod;
    }

    /** The retry period of a relay with these settings: its longest retry delay plus its send timeout. */
    static Duration retryPeriod(RelaySettings settings) {
        return settings.retryMaxDelay().plus(settings.sendTimeout());
    }

    /** The retry period of a relay configured by these properties: its longest retry delay plus its send timeout. */
    static Duration retryPeriod(OutboxProperties.Relay relay) {
        return relay.getRetry().getMaxDelay().plus(relay.getSendTimeout());
    }

    /** A send to the topic failed as unavailable. */
    void failed(String topic, String error) {
        Instant now = this.clock.instant();
        this.outages.compute(
                topic,
                (name, outage) ->
                        new Outage(outage != null && !expired(outage, now) ? outage.since() : now, now, error));
    }

    /** A record of the topic was acknowledged: the topic takes records again, unless one of it failed lately. */
    void acknowledged(String topic) {
        if (this.outages.isEmpty()) {
            return;
        }
        Instant now = this.clock.instant();
        this.outages.computeIfPresent(
                topic,
                (name, outage) -> outage.lastFailureAt().plus(this.retryPeriod).isBefore(now) ? null : outage);
    }

    /** The topics unavailable now, by name. */
    Map<String, Outage> current() {
        Instant now = this.clock.instant();
        this.outages.values().removeIf(outage -> expired(outage, now));
        return new TreeMap<>(this.outages);
    }

    /** How many topics are unavailable now. */
    int count() {
        return current().size();
    }

    private boolean expired(Outage outage, Instant now) {
        return outage.lastFailureAt().plus(this.retryPeriod.multipliedBy(2)).isBefore(now);
    }

    /**
     * An outage of one topic.
     *
     * @param since when the first send of the outage failed
     * @param lastFailureAt when the last send of the outage failed
     * @param error the last send's error
     */
    record Outage(Instant since, Instant lastFailureAt, String error) {}
}
