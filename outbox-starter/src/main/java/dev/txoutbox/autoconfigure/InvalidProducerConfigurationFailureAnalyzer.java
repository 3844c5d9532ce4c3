package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.kafka.InvalidProducerConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a relay producer setting that the Kafka client refuses, and which property to change: the engine's message
 * names the Kafka setting, this one the properties it is configured with.
 */
final class InvalidProducerConfigurationFailureAnalyzer
        extends AbstractFailureAnalyzer<InvalidProducerConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidProducerConfigurationException cause) {
        String setting = cause.getSetting();
        String action = setting == null
                ? "Fix the producer settings in outbox.relay.producer.* (the relay's own, over"
                        + " spring.kafka.producer.*) or spring.kafka.producer.*, or what an"
                        + " OutboxProducerFactoryCustomizer changes."
                : ("Set outbox.relay.producer.%s to a value the idempotent producer accepts (it applies to the relay's"
                                + " producer only, over spring.kafka.producer.*), or fix the setting where it comes"
                                + " from (spring.kafka.producer.*, spring.kafka.properties.* or an"
                                + " OutboxProducerFactoryCustomizer).")
                        .formatted(setting);
        return new FailureAnalysis(cause.getProblem(), action, cause);
    }
}
