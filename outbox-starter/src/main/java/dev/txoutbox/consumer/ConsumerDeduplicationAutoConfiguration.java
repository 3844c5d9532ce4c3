package dev.txoutbox.consumer;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.autoconfigure.OutboxProperties;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of consumer-side de-duplication: the {@link Deduplicator} that keeps processed event ids in the
 * outbox's database and the purge of the ids older than {@code outbox.consumer.retention}. Turned off with
 * {@code outbox.consumer.enabled=false}; a {@code Deduplicator} bean of the application's own replaces ours.
 */
@AutoConfiguration(after = OutboxStoreAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "outbox.consumer.enabled", matchIfMissing = true)
@ConditionalOnBean({OutboxStore.class, ProcessedEvents.class})
public final class ConsumerDeduplicationAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    Deduplicator outboxDeduplicator(ProcessedEvents processedEvents, OutboxStore store) {
        return new JdbcDeduplicator(processedEvents, store.dataSource());
    }

    @Bean
    ProcessedEventsPurger outboxProcessedEventsPurger(ProcessedEvents processedEvents, OutboxProperties properties) {
        OutboxProperties.Consumer consumer = properties.getConsumer();
        return new ProcessedEventsPurger(processedEvents, consumer.getRetention(), consumer.getPurgeInterval());
    }
}
