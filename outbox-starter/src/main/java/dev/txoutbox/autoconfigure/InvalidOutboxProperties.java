package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.InvalidRelaySettingException;
import dev.txoutbox.relay.RelaySettings;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.util.StringUtils;

/**
 * The one place where an invalid {@code outbox.*} value stops the start, always as Spring Boot's
 * {@link InvalidConfigurationPropertyValueException} naming the property, its value and the reason, so that every such
 * message has one shape and Boot's failure analyzer reports it with the property's origin. The engine's own errors,
 * which name its settings ({@link InvalidRelaySettingException}, the table name's), are translated here into the
 * properties they were bound from.
 */
final class InvalidOutboxProperties {

    /** The property each {@link RelaySettings} component is bound from, with the value as the user wrote it. */
    private static final Map<String, Binding> RELAY_SETTINGS = Map.ofEntries(
            Map.entry("batchSize", new Binding("outbox.relay.batch-size", OutboxProperties.Relay::getBatchSize)),
            Map.entry(
                    "pollInterval", new Binding("outbox.relay.poll-interval", OutboxProperties.Relay::getPollInterval)),
            Map.entry("sendTimeout", new Binding("outbox.relay.send-timeout", OutboxProperties.Relay::getSendTimeout)),
            Map.entry(
                    "retryInitialDelay",
                    new Binding(
                            "outbox.relay.retry.initial-delay",
                            relay -> relay.getRetry().getInitialDelay())),
            Map.entry(
                    "retryMultiplier",
                    new Binding(
                            "outbox.relay.retry.multiplier",
                            relay -> relay.getRetry().getMultiplier())),
            Map.entry(
                    "retryMaxDelay",
                    new Binding(
                            "outbox.relay.retry.max-delay",
                            relay -> relay.getRetry().getMaxDelay())),
            Map.entry(
                    "maxAttempts",
                    new Binding(
                            "outbox.relay.retry.max-attempts",
                            relay -> relay.getRetry().getMaxAttempts())),
            Map.entry("concurrency", new Binding("outbox.relay.concurrency", OutboxProperties.Relay::getConcurrency)),
            Map.entry(
                    "tableConcurrency",
                    new Binding("outbox.relay.table-concurrency", OutboxProperties.Relay::getTableConcurrency)),
            Map.entry(
                    "vacuumInterval",
                    new Binding("outbox.relay.vacuum-interval", OutboxProperties.Relay::getVacuumInterval)),
            Map.entry(
                    "maxBatchBytes",
                    new Binding("outbox.relay.max-batch-bytes", OutboxProperties.Relay::getMaxBatchBytes)),
            Map.entry(
                    "shutdownTimeout",
                    new Binding("outbox.relay.shutdown-timeout", OutboxProperties.Relay::getShutdownTimeout)),
            Map.entry(
                    "synchronousCommit",
                    new Binding("outbox.relay.synchronous-commit", OutboxProperties.Relay::isSynchronousCommit)));

    private InvalidOutboxProperties() {}

    /**
     * The relay's settings bound from {@code outbox.relay.*}.
     *
     * @throws InvalidConfigurationPropertyValueException naming the property of the first invalid setting
     */
    static RelaySettings relaySettings(OutboxProperties.Relay relay) {
        try {
            return RelaySettings.builder()
                    .batchSize(relay.getBatchSize())
                    .pollInterval(relay.getPollInterval())
                    .sendTimeout(relay.getSendTimeout())
                    .retry(
                            relay.getRetry().getInitialDelay(),
                            relay.getRetry().getMultiplier(),
                            relay.getRetry().getMaxDelay())
                    .maxAttempts(relay.getRetry().getMaxAttempts())
                    .concurrency(relay.getConcurrency())
                    .tableConcurrency(relay.getTableConcurrency())
                    .vacuumInterval(relay.getVacuumInterval())
                    .maxBatchBytes(relay.getMaxBatchBytes().toBytes())
                    .shutdownTimeout(relay.getShutdownTimeout())
                    .synchronousCommit(relay.isSynchronousCommit())
                    .build();
        } catch (InvalidRelaySettingException ex) {
            Binding binding = RELAY_SETTINGS.get(ex.setting());
            if (binding == null) {
                throw new IllegalStateException(
                        "No outbox.relay property is bound to RelaySettings." + ex.setting(), ex);
            }
            throw invalid(binding.property(), binding.value().apply(relay), ex.reason());
        }
    }

    /** The names of the {@link RelaySettings} components this class maps to properties. */
    static Iterable<String> mappedRelaySettings() {
        return RELAY_SETTINGS.keySet();
    }

    /**
     * What {@code creation} makes of a property's value, or the failure naming the property when it refuses the value
     * with an {@link IllegalArgumentException}, whose message becomes the reason.
     */
    static <T> T bind(String property, @Nullable Object value, Supplier<T> creation) {
        try {
            return creation.get();
        } catch (IllegalArgumentException ex) {
            throw invalid(property, value, String.valueOf(ex.getMessage()));
        }
    }

    /** Fails naming the property unless {@code valid}; {@code reason} says what the value must be. */
    static void require(boolean valid, String property, @Nullable Object value, String reason) {
        if (!valid) {
            throw invalid(property, value, reason);
        }
    }

    /** Fails naming the property unless its value is a positive duration. */
    static void requirePositive(String property, @Nullable Duration value, String example) {
        require(
                value != null && !value.isNegative() && !value.isZero(),
                property,
                value,
                "It must be a positive duration such as " + example + ".");
    }

    /** The one shape of an invalid property value: its name, the value and the reason, as a sentence. */
    static InvalidConfigurationPropertyValueException invalid(String property, @Nullable Object value, String reason) {
        String sentence = StringUtils.capitalize(reason.strip());
        return new InvalidConfigurationPropertyValueException(
                property, value, sentence.endsWith(".") ? sentence : sentence + ".");
    }

    private record Binding(String property, Function<OutboxProperties.Relay, @Nullable Object> value) {}
}
