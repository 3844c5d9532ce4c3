package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.postgresql.WakeUpListener;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.context.annotation.Bean;

/** Auto-configuration of the {@code outbox} health indicator. */
@AutoConfiguration(after = {OutboxStoreAutoConfiguration.class, OutboxRelayAutoConfiguration.class})
@ConditionalOnClass(AbstractHealthIndicator.class)
@ConditionalOnBean(OutboxStatisticsCache.class)
@ConditionalOnEnabledHealthIndicator("outbox")
public final class OutboxHealthAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "outboxHealthIndicator")
    OutboxHealthIndicator outboxHealthIndicator(
            OutboxStatisticsCache statistics,
            ObjectProvider<RelayHealthTracker> relay,
            ObjectProvider<WakeUpListener> listener,
            ObjectProvider<ReplicationSlotMonitor> slot,
            OutboxProperties properties) {
        return new OutboxHealthIndicator(
                statistics, relay.getIfAvailable(), listener.getIfUnique(), slot.getIfUnique(), properties.getHealth());
    }
}
