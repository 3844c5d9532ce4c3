package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The outbox's Micrometer meters: counters of written, published, failed and dead-lettered events and of relay
 * cycles that found no free cycle slot, the batch size, the latency from a row's write to the broker's
 * acknowledgement, gauges of the tables' state, read through the {@link OutboxStatisticsCache}, and of the topics
 * that are unavailable now. Registered when it is created; safe to use from any thread.
 *
 * <p>A topic's counters (written, published, dead-lettered) are registered together, at zero, the first time this
 * instance writes or relays an event of the topic, so that Prometheus has seen the dead-letter counter at zero before
 * the topic's first dead letter, and {@code increase()} shows that one. The send-failure counters are tagged with the
 * error's type, which is not known before the failure: they appear with their first failure, and the dashboard's
 * queries count a series that appears within their window from zero.
 */
final class OutboxMetrics implements OutboxRelayListener {

    private final MeterRegistry registry;

    private final Timer latency;

    private final DistributionSummary batchSize;

    private final Counter cyclesWithoutSlot;

    /** The send-failure counters, by reason and kind. */
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    private final Map<String, TopicCounters> topics = new ConcurrentHashMap<>();

    private final UnavailableTopics unavailableTopics;

    /**
     * @param retryPeriod the relay's longest retry delay plus its send timeout, which tells when a topic's failures
     *     are old enough for it to count as available again (see {@link UnavailableTopics})
     */
    OutboxMetrics(MeterRegistry registry, OutboxStatisticsCache statistics, Clock clock, Duration retryPeriod) {
        this.registry = registry;
        this.unavailableTopics = new UnavailableTopics(clock, retryPeriod);
        this.latency = Timer.builder("outbox.publish.latency")
                .description("Time from an event's row being written to the broker's acknowledgement of its record")
                .publishPercentileHistogram()
                .register(registry);
        this.batchSize = DistributionSummary.builder("outbox.batch.size")
                .description("Rows claimed by a relay cycle that found any")
                .register(registry);
        this.cyclesWithoutSlot = Counter.builder("outbox.cycles.without.slot")
                .description("Relay cycles that found every cycle slot of the table taken and claimed nothing")
                .register(registry);
        Gauge.builder("outbox.rows.waiting", statistics, cache -> cache.figure(figures -> figures.waiting()))
                .description("Rows waiting in the outbox table to be published")
                .register(registry);
        TimeGauge.builder("outbox.oldest.row.age", statistics, TimeUnit.SECONDS, OutboxStatisticsCache::lagSeconds)
                .description("Age of the oldest row the relay could publish now: how far it is behind")
                .register(registry);
        Gauge.builder("outbox.dead.letters", statistics, cache -> cache.figure(figures -> figures.deadLetters()))
                .description("Events in the dead letters")
                .register(registry);
        Gauge.builder("outbox.topics.unavailable", this.unavailableTopics, UnavailableTopics::count)
                .description("Topics whose sends fail now because the destination is not available (broker"
                        + " unreachable, partition without leader, topic missing, not authorized)")
                .register(registry);
        Gauge.builder("outbox.keys.parked", statistics, cache -> cache.figure(figures -> figures.parkedKeys()))
                .description("Keys that have a dead letter (their later events wait while keys are parked)")
                .register(registry);
    }

    /** Counts the events a committed transaction wrote, per topic. */
    void written(Map<String, Integer> perTopic) {
        perTopic.forEach((topic, count) -> topic(topic).written().increment(count));
    }

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        topic(record.topic()).published().increment();
        this.latency.record(Duration.between(record.writtenAt(), acknowledgedAt));
        this.unavailableTopics.acknowledged(record.topic());
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, FailureKind kind) {
        // A record that fails transiently becomes a dead letter cycles later: its topic's counter is at zero by then.
        topic(record.topic());
        String reason = reason(error);
        String kindTag = kind.name().toLowerCase(Locale.ROOT);
        this.counters
                .computeIfAbsent(
                        "outbox.send.failures|" + reason + "|" + kindTag,
                        name -> Counter.builder("outbox.send.failures")
                                .description("Sends that failed, by the error's type and what it says about the"
                                        + " record's chances")
                                .tag("reason", reason)
                                .tag("kind", kindTag)
                                .register(this.registry))
                .increment();
        if (kind == FailureKind.UNAVAILABLE) {
            this.unavailableTopics.failed(record.topic(), reason);
        }
    }

    @Override
    public void deadLettered(OutboxRecord record, String error) {
        topic(record.topic()).deadLettered().increment();
    }

    @Override
    public void cycleCompleted(OutboxRelay.CycleResult result) {
        if (result.locked() > 0) {
            this.batchSize.record(result.locked());
        }
        if (result.noFreeSlot()) {
            this.cyclesWithoutSlot.increment();
        }
    }

    /** The counters of a topic, registered at zero the first time the topic is seen. */
    private TopicCounters topic(String topic) {
        return this.topics.computeIfAbsent(
                topic,
                name -> new TopicCounters(
                        counter("outbox.events.written", "Events written to the outbox", name),
                        counter("outbox.events.published", "Events the broker acknowledged", name),
                        counter("outbox.events.dead.lettered", "Events moved to the dead letters", name)));
    }

    private Counter counter(String name, String description, String topic) {
        return Counter.builder(name)
                .description(description)
                .tag("topic", topic)
                .register(this.registry);
    }

    /** The counters of one topic. */
    private record TopicCounters(Counter written, Counter published, Counter deadLettered) {}

    /** The type of the error that says what happened: wrappers of Spring's are looked through. */
    static String reason(Throwable error) {
        return telling(error).getClass().getSimpleName();
    }

    /** The type and message of the error that says what happened: wrappers of Spring's are looked through. */
    static String describe(Throwable error) {
        Throwable cause = telling(error);
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private static Throwable telling(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getClass().getName().startsWith("org.springframework.")) {
            cause = cause.getCause();
        }
        return cause;
    }
}
