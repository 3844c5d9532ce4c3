package dev.txoutbox.relay.kafka;

import java.util.Map;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;
import org.jspecify.annotations.Nullable;

/**
 * The key serializer of the relay's producer when {@link KafkaRecordPublisher#KEY_SERIALIZER_CONFIG} names one: it
 * runs that serializer and marks its failures as {@link KeySerializerUnavailableException}. The writer has already
 * run the same serializer on each key, in the business transaction, so a key it refuses now was accepted then: the
 * cause is the serializer's surroundings (its schema registry unreachable from the relay), which is retried like an
 * unreachable broker rather than counted against the event until it becomes a dead letter. Kafka instantiates it by
 * its name, so it is public with a public constructor; it is not API.
 */
public final class RelayKeySerializer implements Serializer<String> {

    private @Nullable Serializer<String> delegate;

    /** Kafka creates it from the producer's configuration. */
    public RelayKeySerializer() {}

    @Override
    @SuppressWarnings("unchecked")
    public void configure(Map<String, ?> configs, boolean isKey) {
        Object named = configs.get(KafkaRecordPublisher.KEY_SERIALIZER_DELEGATE_CONFIG);
        if (named == null) {
            throw new ConfigException(
                    KafkaRecordPublisher.KEY_SERIALIZER_DELEGATE_CONFIG,
                    null,
                    "the relay's key serializer needs the serializer it runs; name it with "
                            + KafkaRecordPublisher.KEY_SERIALIZER_CONFIG);
        }
        try {
            Serializer<String> serializer = named instanceof Class<?> type
                    ? Utils.newInstance((Class<Serializer<String>>) type)
                    : (Serializer<String>) Utils.newInstance(named.toString(), Serializer.class);
            serializer.configure(configs, isKey);
            this.delegate = serializer;
        } catch (ClassNotFoundException ex) {
            throw new ConfigException(
                    KafkaRecordPublisher.KEY_SERIALIZER_CONFIG,
                    named,
                    "no such class on the relay's class path: " + ex.getMessage());
        }
    }

    @Override
    public byte[] serialize(String topic, String key) {
        return serialize(topic, null, key);
    }

    @Override
    public byte[] serialize(String topic, @Nullable Headers headers, String key) {
        Serializer<String> serializer = this.delegate;
        if (serializer == null) {
            throw new IllegalStateException("The relay's key serializer was used before it was configured");
        }
        try {
            return headers != null ? serializer.serialize(topic, headers, key) : serializer.serialize(topic, key);
        } catch (RuntimeException ex) {
            throw new KeySerializerUnavailableException(serializer, topic, ex);
        }
    }

    @Override
    public void close() {
        if (this.delegate != null) {
            this.delegate.close();
        }
    }

    /**
     * A key serializer failed in the relay on a key it had accepted when the event was written: a failed send that
     * is retried without limit, holding back its key only, until the serializer works again.
     */
    static final class KeySerializerUnavailableException extends KafkaException {

        KeySerializerUnavailableException(Serializer<String> serializer, String topic, RuntimeException cause) {
            super(
                    ("The key serializer %s failed in the relay on a record for topic '%s': %s. It accepted the key"
                                    + " when the event was written, so the cause is likely around it (its schema registry"
                                    + " unreachable from the relay, or its credentials); the send is retried until it works."
                                    + " Check that the relay reaches the registry with outbox.serialization.properties.*.")
                            .formatted(serializer.getClass().getName(), topic, cause.getMessage()),
                    cause);
        }
    }
}
