package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import java.util.HashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * Auto-configuration of the relay: a Kafka publisher with a producer of its own (from {@code spring.kafka.*} and
 * {@code outbox.relay.producer.*}) and the relay, started and stopped with the application context.
 */
@AutoConfiguration(
        after = OutboxAutoConfiguration.class,
        afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass(KafkaTemplate.class)
@ConditionalOnBean(OutboxStore.class)
@ConditionalOnBooleanProperty(name = "outbox.relay.enabled", matchIfMissing = true)
public final class OutboxRelayAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    RelaySettings outboxRelaySettings(OutboxProperties properties) {
        OutboxProperties.Relay relay = properties.getRelay();
        return new RelaySettings(
                relay.getBatchSize(),
                relay.getPollInterval(),
                relay.getSendTimeout(),
                relay.getRetry().getInitialDelay(),
                relay.getRetry().getMultiplier(),
                relay.getRetry().getMaxDelay(),
                relay.getRetry().getMaxAttempts());
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(RecordPublisher.class)
    KafkaRecordPublisher outboxRecordPublisher(
            ObjectProvider<KafkaProperties> kafkaProperties, OutboxProperties properties, RelaySettings settings) {
        Map<String, Object> producer = new HashMap<>();
        kafkaProperties.ifAvailable(kafka -> producer.putAll(kafka.buildProducerProperties()));
        producer.putAll(properties.getRelay().getProducer());
        return KafkaRecordPublisher.create(producer, settings);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxRelay outboxRelay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        return new OutboxRelay(store, publisher, settings);
    }
}
