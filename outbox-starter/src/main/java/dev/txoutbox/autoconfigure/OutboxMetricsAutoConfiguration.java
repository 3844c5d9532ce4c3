package dev.txoutbox.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the outbox's Micrometer meters. It runs before the relay's, so that the relay reports to
 * them.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
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
    @ConditionalOnMissingBean
    OutboxMetrics outboxMetrics(MeterRegistry registry, OutboxStatisticsCache statistics) {
        return new OutboxMetrics(registry, statistics);
    }
}
