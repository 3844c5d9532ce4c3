package dev.txoutbox.consumer;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.autoconfigure.OutboxProperties;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
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
        requirePositive("outbox.consumer.retention", consumer.getRetention(), "7d");
        requirePositive("outbox.consumer.purge-interval", consumer.getPurgeInterval(), "1h");
        return new ProcessedEventsPurger(processedEvents, consumer.getRetention(), consumer.getPurgeInterval());
    }

    // The same shape as every other invalid outbox.* value (dev.txoutbox.autoconfigure.InvalidOutboxProperties, which
    // this package cannot reach): a negative retention would purge every processed id and so turn de-duplication off.
    private static void requirePositive(String property, Duration value, String example) {
        if (value.isNegative() || value.isZero()) {
            throw new InvalidConfigurationPropertyValueException(
                    property, value, "It must be a positive duration such as " + example + ".");
        }
    }
}
