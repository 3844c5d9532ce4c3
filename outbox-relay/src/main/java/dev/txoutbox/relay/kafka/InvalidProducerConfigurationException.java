package dev.txoutbox.relay.kafka;

import org.jspecify.annotations.Nullable;

/**
 * The relay's Kafka producer configuration is one the Kafka client refuses, such as
 * {@code max.in.flight.requests.per.connection=10} with the idempotence the relay enforces. Raised when the publisher
 * is created, before anything connects, so that the mistake stops the application's start rather than failing every
 * send.
 */
public final class InvalidProducerConfigurationException extends IllegalArgumentException {

    private final @Nullable String setting;

    private final @Nullable Object value;

    private final String problem;

    private final String action;

    InvalidProducerConfigurationException(
            @Nullable String setting, @Nullable Object value, String problem, String action) {
        super(problem + " " + action);
        this.setting = setting;
        this.value = value;
        this.problem = problem;
        this.action = action;
    }

    /** The name of the producer property at fault, when the Kafka client's error names one. */
    public @Nullable String getSetting() {
        return this.setting;
    }

    /** The value the relay's producer would have had for {@link #getSetting()}, if it was set. */
    public @Nullable Object getValue() {
        return this.value;
    }

    /** What is wrong: the setting, its value and the Kafka client's reason. */
    public String getProblem() {
        return this.problem;
    }

    /** What to change, in terms of the Kafka producer's settings. */
    public String getAction() {
        return this.action;
    }
}
