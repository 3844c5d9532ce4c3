package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The outbox's health: DOWN when the oldest row the relay could publish is older than {@code outbox.health.max-lag},
 * when rows wait and the relay's last {@code outbox.health.failing-cycles} cycles got none acknowledged, when as many
 * cycles in a row failed as a whole, or when the figures cannot be read; with the figures, the reasons and the
 * relay's last error as details.
 */
final class OutboxHealthIndicator extends AbstractHealthIndicator {

    private final OutboxStatisticsCache statistics;

    private final @Nullable RelayHealthTracker relay;

    private final Duration maxLag;

    private final int failingCycles;

    OutboxHealthIndicator(
            OutboxStatisticsCache statistics, @Nullable RelayHealthTracker relay, OutboxProperties.Health settings) {
        super("Outbox health check failed");
        if (settings.getMaxLag() == null
                || settings.getMaxLag().isNegative()
                || settings.getMaxLag().isZero()) {
            throw new IllegalArgumentException("Invalid outbox.health.max-lag=" + settings.getMaxLag()
                    + ": it must be a positive duration such as 5m.");
        }
        if (settings.getFailingCycles() < 1) {
            throw new IllegalArgumentException(
                    "Invalid outbox.health.failing-cycles=" + settings.getFailingCycles() + ": it must be at least 1.");
        }
        this.statistics = statistics;
        this.relay = relay;
        this.maxLag = settings.getMaxLag();
        this.failingCycles = settings.getFailingCycles();
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        List<String> reasons = new ArrayList<>();
        OutboxStatisticsCache.Reading reading = this.statistics.get();
        OutboxStatistics figures = reading.statistics();
        if (figures == null) {
            reasons.add("the outbox tables cannot be read: " + reading.error());
        } else {
            Duration lag = figures.lag();
            builder.withDetail("waiting", figures.waiting())
                    .withDetail("lag", lag.toString())
                    .withDetail("deadLetters", figures.deadLetters())
                    .withDetail("parkedKeys", figures.parkedKeys());
            if (lag.compareTo(this.maxLag) > 0) {
                reasons.add("the oldest row the relay could publish is older than outbox.health.max-lag (" + this.maxLag
                        + ")");
            }
        }
        if (this.relay != null) {
            if (this.relay.lastPublishedAt() != null) {
                builder.withDetail(
                        "lastPublishedAt", this.relay.lastPublishedAt().toString());
            }
            if (this.relay.lastError() != null) {
                builder.withDetail("lastError", this.relay.lastError())
                        .withDetail("lastErrorAt", String.valueOf(this.relay.lastErrorAt()));
            }
            boolean rowsWait = figures == null || figures.waiting() > 0;
            if (rowsWait && this.relay.unacknowledgedCycles() >= this.failingCycles) {
                reasons.add(("the relay's last %d cycles got no record acknowledged: it cannot reach Kafka, or Kafka"
                                + " refuses every record (see lastError)")
                        .formatted(this.relay.unacknowledgedCycles()));
            }
            if (this.relay.failedCycles() >= this.failingCycles) {
                reasons.add(
                        "the relay's last %d cycles failed as a whole, such as when the database cannot be reached (see lastError)"
                                .formatted(this.relay.failedCycles()));
            }
        }
        if (reasons.isEmpty()) {
            builder.up();
        } else {
            builder.down().withDetail("reasons", reasons);
        }
    }
}
