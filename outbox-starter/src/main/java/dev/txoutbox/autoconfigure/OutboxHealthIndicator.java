package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxStatistics;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The outbox's health: DOWN when the oldest waiting row is older than {@code outbox.health.max-lag}, or when the
 * relay's last {@code outbox.health.failing-cycles} cycles sent records and got none acknowledged; with the lag,
 * the waiting rows, the dead letters and the relay's last error as details.
 */
final class OutboxHealthIndicator extends AbstractHealthIndicator {

    private final OutboxStatisticsCache statistics;

    private final @Nullable RelayHealthTracker relay;

    private final OutboxProperties.Health settings;

    OutboxHealthIndicator(
            OutboxStatisticsCache statistics, @Nullable RelayHealthTracker relay, OutboxProperties.Health settings) {
        super("Outbox health check failed");
        this.statistics = statistics;
        this.relay = relay;
        this.settings = settings;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        OutboxStatistics figures = this.statistics.get();
        Duration lag = figures.lag();
        builder.up()
                .withDetail("waiting", figures.waiting())
                .withDetail("lag", lag.toString())
                .withDetail("deadLetters", figures.deadLetters())
                .withDetail("parkedKeys", figures.parkedKeys());
        if (lag.compareTo(this.settings.getMaxLag()) > 0) {
            builder.down()
                    .withDetail(
                            "reason",
                            "the oldest waiting row is older than outbox.health.max-lag (" + this.settings.getMaxLag()
                                    + ")");
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
            if (this.relay.failingCycles() >= this.settings.getFailingCycles()) {
                builder.down()
                        .withDetail(
                                "reason",
                                "the relay's last %d cycles got no record acknowledged: it cannot reach Kafka, or Kafka"
                                                .formatted(this.relay.failingCycles())
                                        + " refuses every record (see lastError)");
            }
        }
    }
}
