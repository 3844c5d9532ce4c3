package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The outbox's Micrometer meters: counters of written, published, failed and dead-lettered events, the batch size,
 * the latency from a row's write to the broker's acknowledgement, and gauges of the table's state, read through
 * the {@link OutboxStatisticsCache}.
 */
final class OutboxMetrics implements OutboxRelayListener, MeterBinder {

    private final OutboxStatisticsCache statistics;

    private MeterRegistry registry;

    private Timer latency;

    private DistributionSummary batchSize;

    OutboxMetrics(OutboxStatisticsCache statistics) {
        this.statistics = statistics;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        this.registry = registry;
        this.latency = Timer.builder("outbox.publish.latency")
                .description("Time from an event's row being written to the broker's acknowledgement of its record")
                .publishPercentileHistogram()
                .register(registry);
        this.batchSize = DistributionSummary.builder("outbox.batch.size")
                .description("Rows claimed by a relay cycle that found any")
                .register(registry);
        Gauge.builder(
                        "outbox.rows.waiting",
                        this.statistics,
                        cache -> cache.get().waiting())
                .description("Rows waiting in the outbox table to be published")
                .register(registry);
        TimeGauge.builder(
                        "outbox.oldest.row.age",
                        this.statistics,
                        TimeUnit.MILLISECONDS,
                        cache -> cache.get().lag().toMillis())
                .description("Age of the oldest waiting row: how far the relay is behind")
                .register(registry);
        Gauge.builder(
                        "outbox.dead.letters",
                        this.statistics,
                        cache -> cache.get().deadLetters())
                .description("Events in the dead letters")
                .register(registry);
        Gauge.builder(
                        "outbox.keys.parked",
                        this.statistics,
                        cache -> cache.get().parkedKeys())
                .description("Keys that have a dead letter, whose later events wait")
                .register(registry);
    }

    /** Counts the events a committed transaction wrote, per topic. */
    void written(Map<String, Integer> perTopic) {
        if (this.registry != null) {
            perTopic.forEach((topic, count) -> counter("outbox.events.written", "Events written to the outbox", topic)
                    .increment(count));
        }
    }

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        if (this.registry != null) {
            counter("outbox.events.published", "Events the broker acknowledged", record.topic())
                    .increment();
            this.latency.record(Duration.between(record.createdAt(), acknowledgedAt));
        }
    }

    @Override
    public void sendFailed(OutboxRecord record, Throwable error, boolean permanent) {
        if (this.registry != null) {
            Counter.builder("outbox.send.failures")
                    .description("Sends that failed, by the error's type")
                    .tag("reason", reason(error))
                    .tag("permanent", String.valueOf(permanent))
                    .register(this.registry)
                    .increment();
        }
    }

    @Override
    public void deadLettered(OutboxRecord record, String error) {
        if (this.registry != null) {
            counter("outbox.events.dead.lettered", "Events moved to the dead letters", record.topic())
                    .increment();
        }
    }

    @Override
    public void cycleCompleted(OutboxRelay.CycleResult result) {
        if (this.batchSize != null && result.locked() > 0) {
            this.batchSize.record(result.locked());
        }
    }

    private Counter counter(String name, String description, String topic) {
        return Counter.builder(name)
                .description(description)
                .tag("topic", topic)
                .register(this.registry);
    }

    /** The type of the error that says what happened: wrappers of Spring's are looked through. */
    static String reason(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getClass().getName().startsWith("org.springframework.")) {
            cause = cause.getCause();
        }
        return cause.getClass().getSimpleName();
    }
}
