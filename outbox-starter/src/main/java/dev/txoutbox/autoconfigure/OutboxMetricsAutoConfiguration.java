package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.RelaySettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the outbox's Micrometer meters. It runs before the relay's, so that the relay reports to
 * them.
 */
@AutoConfiguration(
        after = OutboxStoreAutoConfiguration.class,
        before = OutboxRelayAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
            "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"
        })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({MeterRegistry.class, OutboxStatisticsCache.class})
public final class OutboxMetricsAutoConfiguration {

    @Bean
    OutboxMetrics outboxMetrics(
            MeterRegistry registry,
            OutboxStatisticsCache statistics,
            ObjectProvider<RelaySettings> relaySettings,
            OutboxProperties properties) {
        // The relay's own settings when it runs here (a user's RelaySettings bean included), else its properties.
        RelaySettings settings = relaySettings.getIfUnique();
        Duration retryPeriod = settings != null
                ? UnavailableTopics.retryPeriod(settings)
                : UnavailableTopics.retryPeriod(properties.getRelay());
        return new OutboxMetrics(registry, statistics, Clock.systemUTC(), retryPeriod);
    }

    /** The gauge of the replication slot's lag, in log mode; registered lazily, since the slot comes after. */
    @Bean
    MeterBinder outboxReplicationSlotMetrics(ObjectProvider<ReplicationSlotMonitor> slot) {
        return registry -> slot.ifUnique(monitor -> monitor.bindTo(registry));
    }
}
