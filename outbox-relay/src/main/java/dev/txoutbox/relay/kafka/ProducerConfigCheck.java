package dev.txoutbox.relay.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.jspecify.annotations.Nullable;

/**
 * The relay's producer configuration, read as the Kafka client reads it, without connecting to anything: whether the
 * client accepts it, and how long it may still write a record it took.
 */
final class ProducerConfigCheck {

    /** How the Kafka client words a value its configuration definition refuses. */
    private static final Pattern INVALID_VALUE =
            Pattern.compile("Invalid value .* for configuration ([A-Za-z0-9._-]+)");

    private ProducerConfigCheck() {}

    /**
     * Checks the producer properties as {@code KafkaProducer}'s constructor would: types, ranges, the idempotent
     * producer's constraints (which the relay always enables), and a delivery timeout long enough for a request.
     *
     * @throws InvalidProducerConfigurationException naming the setting, its value and the fix
     */
    static void validate(Map<String, Object> properties) {
        try {
            new ProducerConfig(properties);
            // KafkaProducer's own check, made when it is constructed, which DefaultKafkaProducerFactory does only at
            // the first send.
            if (properties.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)
                    && millis(properties, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)
                            < millis(properties, ProducerConfig.LINGER_MS_CONFIG)
                                    + millis(properties, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) {
                throw new ConfigException(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG
                        + " must be at least linger.ms + request.timeout.ms ("
                        + millis(properties, ProducerConfig.LINGER_MS_CONFIG) + " + "
                        + millis(properties, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG) + ").");
            }
        } catch (ConfigException ex) {
            throw invalid(properties, ex);
        }
    }

    /**
     * How long after a send the producer may still write the record: the effective {@code delivery.timeout.ms} (Kafka
     * raises it to {@code linger.ms + request.timeout.ms} when it is not set explicitly), plus one
     * {@code request.timeout.ms} for a produce request that left just before the record expired.
     */
    static Duration maxDeliveryTime(Map<String, ?> properties) {
        long request = millisOrDefault(properties, ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG);
        long delivery = millisOrDefault(properties, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG);
        if (!properties.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)) {
            delivery = Math.max(delivery, millisOrDefault(properties, ProducerConfig.LINGER_MS_CONFIG) + request);
        }
        return Duration.ofMillis(delivery + request);
    }

    /** A numeric producer setting as the client parses it, or the client's default. */
    private static long millis(Map<String, ?> properties, String name) {
        ConfigDef.ConfigKey key = ProducerConfig.configDef().configKeys().get(name);
        Object value = properties.get(name);
        Object parsed = value != null ? ConfigDef.parseType(name, value, key.type) : key.defaultValue;
        return ((Number) parsed).longValue();
    }

    /** {@link #millis}, or the client's default for a value it cannot parse (the producer then fails anyway). */
    private static long millisOrDefault(Map<String, ?> properties, String name) {
        try {
            return millis(properties, name);
        } catch (ConfigException ex) {
            return ((Number) ProducerConfig.configDef().configKeys().get(name).defaultValue).longValue();
        }
    }

    private static InvalidProducerConfigurationException invalid(Map<String, Object> properties, ConfigException ex) {
        String setting = settingAtFault(properties, String.valueOf(ex.getMessage()));
        Object value = setting != null ? properties.get(setting) : null;
        String what = setting == null
                ? "its configuration"
                : value == null ? setting + " (not set, Kafka's default)" : setting + "=" + value;
        String problem = ("The outbox relay's Kafka producer cannot run with %s: %s The relay's producer always runs"
                        + " idempotent (enable.idempotence=true) with acks=all, since a row is deleted only once the"
                        + " broker acknowledged its record durably: its other settings must suit such a producer.")
                .formatted(what, ex.getMessage());
        // The engine names Kafka's producer settings only: where they come from (properties, code) is for the
        // application that configures the relay to say.
        String action = setting == null
                ? "Fix the relay's Kafka producer configuration."
                : ("Set the producer's %s to a value an idempotent producer with acks=all accepts, or leave it unset"
                                + " for Kafka's default.")
                        .formatted(setting);
        // Kafka's exception is not kept as the cause: its message is in ours, and the root cause of a failed start
        // should be the one that says what to do.
        return new InvalidProducerConfigurationException(setting, value, problem, action);
    }

    /**
     * The producer setting the client's message is about: the one it says has an invalid value, or else the first
     * producer setting it names that the properties set, or else the first it names.
     */
    static @Nullable String settingAtFault(Map<String, ?> properties, String message) {
        Matcher invalidValue = INVALID_VALUE.matcher(message);
        if (invalidValue.find()) {
            return invalidValue.group(1);
        }
        String first = null;
        int firstAt = Integer.MAX_VALUE;
        String firstSet = null;
        int firstSetAt = Integer.MAX_VALUE;
        for (String name : ProducerConfig.configNames()) {
            int at = indexOfName(message, name);
            if (at < 0) {
                continue;
            }
            if (at < firstAt || (at == firstAt && name.length() > first.length())) {
                first = name;
                firstAt = at;
            }
            if (properties.containsKey(name)
                    && (at < firstSetAt || (at == firstSetAt && name.length() > firstSet.length()))) {
                firstSet = name;
                firstSetAt = at;
            }
        }
        return firstSet != null ? firstSet : first;
    }

    /** Where a setting's name stands as a word of its own in a message, or -1. */
    private static int indexOfName(String message, String name) {
        for (int at = message.indexOf(name); at >= 0; at = message.indexOf(name, at + 1)) {
            int end = at + name.length();
            boolean startsWord = at == 0 || !isNameChar(message.charAt(at - 1));
            // A full stop after the name ends a sentence, not the name.
            boolean endsWord = end == message.length()
                    || !isNameChar(message.charAt(end))
                    || (message.charAt(end) == '.'
                            && (end + 1 == message.length() || !isNameChar(message.charAt(end + 1))));
            if (startsWord && endsWord) {
                return at;
            }
        }
        return -1;
    }

    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '_' || c == '-';
    }
}
