package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.kafka.InvalidProducerConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a relay producer setting that the Kafka client refuses, and which property to change. */
final class InvalidProducerConfigurationFailureAnalyzer
        extends AbstractFailureAnalyzer<InvalidProducerConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, InvalidProducerConfigurationException cause) {
        return new FailureAnalysis(cause.getProblem(), cause.getAction(), cause);
    }
}
