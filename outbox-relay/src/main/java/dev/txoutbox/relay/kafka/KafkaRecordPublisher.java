package dev.txoutbox.relay.kafka;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.ProducerListener;

/**
 * Publishes outbox records through a {@link KafkaTemplate}: the record key is the event key, the value the payload
 * (null for a tombstone), the timestamp the row's creation time, and the headers carry the event id, the event type
 * and the event's own headers.
 */
public final class KafkaRecordPublisher implements RecordPublisher, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaRecordPublisher.class);

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(5);

    private static final Duration TOPIC_CHECK_TIMEOUT = Duration.ofSeconds(1);

    private static final Duration TOPIC_CHECK_TTL = Duration.ofSeconds(10);

    private final KafkaTemplate<String, byte[]> template;

    private final boolean ownsProducerFactory;

    private final Map<String, Object> adminConfig;

    private volatile @Nullable Admin admin;

    private final Map<String, TopicCheck> topicChecks = new ConcurrentHashMap<>();

    /**
     * Publishes through a template the caller configured and closes. Its producer should have
     * {@code acks=all} and {@code enable.idempotence=true}; see {@link #producerProperties(Map, RelaySettings)}.
     */
    public KafkaRecordPublisher(KafkaTemplate<String, byte[]> template) {
        this(template, false);
    }

    private KafkaRecordPublisher(KafkaTemplate<String, byte[]> template, boolean ownsProducerFactory) {
        this.template = Objects.requireNonNull(template, "template");
        this.ownsProducerFactory = ownsProducerFactory;
        // The admin client, used only to tell a missing topic from an unreachable broker, shares the producer's
        // connection settings (bootstrap servers, security).
        Map<String, Object> config = new HashMap<>();
        template.getProducerFactory().getConfigurationProperties().forEach((name, value) -> {
            if (AdminClientConfig.configNames().contains(name)) {
                config.put(name, value);
            }
        });
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "outbox-relay-admin");
        this.adminConfig = config;
    }

    /**
     * Creates a publisher with a producer of its own, configured by
     * {@link #producerProperties(Map, RelaySettings)}; {@link #close()} closes it.
     *
     * @param producerConfig Kafka producer properties, at least {@code bootstrap.servers}
     * @param settings the relay's settings, which bound how long a send may block
     */
    public static KafkaRecordPublisher create(Map<String, Object> producerConfig, RelaySettings settings) {
        DefaultKafkaProducerFactory<String, byte[]> factory =
                new DefaultKafkaProducerFactory<>(producerProperties(producerConfig, settings));
        KafkaTemplate<String, byte[]> template = new KafkaTemplate<>(factory);
        // The relay logs failures itself, once per batch with their events; the template's listener would log
        // every failed record again.
        template.setProducerListener(new ProducerListener<>() {});
        return new KafkaRecordPublisher(template, true);
    }

    /**
     * The producer properties the relay runs with: the given ones, with the settings that the outbox's guarantees
     * rest on enforced ({@code acks=all}, idempotence, string keys and byte-array values), and {@code max.block.ms}
     * a quarter of the send timeout unless set explicitly, so that a send to a missing topic or an unreachable
     * broker cannot use up a batch's time.
     */
    public static Map<String, Object> producerProperties(Map<String, Object> given, RelaySettings settings) {
        Map<String, Object> properties = new HashMap<>(given);
        enforce(properties, ProducerConfig.ACKS_CONFIG, "all");
        enforce(properties, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // The application's serializers are for its own templates; the relay sends text keys and byte values.
        properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        properties.putIfAbsent(
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                String.valueOf(Math.max(1, settings.sendTimeout().toMillis() / 4)));
        // The producer gives up on a record at most a send timeout after it took it, about when the relay gives up
        // on its batch, so that a record the relay will send again is seldom also delivered late from the buffer. Kafka
        // wants delivery.timeout.ms >= linger.ms +
        // request.timeout.ms; half the send timeout for a request leaves room for any reasonable linger.
        if (!properties.containsKey(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)
                && !properties.containsKey(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)) {
            long sendTimeout = settings.sendTimeout().toMillis();
            properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(sendTimeout));
            properties.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(Math.max(1, sendTimeout / 2)));
        }
        // A cycle hands the producer a whole batch at once: larger producer batches carry it in fewer requests.
        properties.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
        // The records of a cycle are all handed over at once, so a long linger only delays them: each wave of a
        // cycle, and the cycle's acknowledgement, would wait for it (Kafka's default is 5 ms).
        properties.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "1");
        properties.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "outbox-relay");
        return properties;
    }

    private static void enforce(Map<String, Object> properties, String name, String value) {
        Object previous = properties.put(name, value);
        if (previous != null && !normalize(previous).equals(value)) {
            log.warn(
                    "Kafka producer property {}={} is replaced by {}={} for the outbox relay: a row is deleted only"
                            + " after the broker acknowledged its record durably",
                    name,
                    previous,
                    name,
                    value);
        }
    }

    private static String normalize(Object value) {
        return value.toString().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public CompletableFuture<?> publish(OutboxRecord record) {
        List<Header> headers = new ArrayList<>(record.headers().size() + 2);
        headers.add(header(OutboxHeaders.EVENT_ID, record.eventId().toString()));
        headers.add(header(OutboxHeaders.EVENT_TYPE, record.eventType()));
        record.headers().forEach((name, value) -> headers.add(header(name, value)));
        ProducerRecord<String, byte[]> producerRecord = new ProducerRecord<>(
                record.topic(), null, record.createdAt().toEpochMilli(), record.key(), record.payload(), headers);
        return this.template.send(producerRecord);
    }

    /** The configuration of the producer this publisher sends with. */
    public Map<String, Object> producerConfiguration() {
        return this.template.getProducerFactory().getConfigurationProperties();
    }

    /**
     * A record that is too large, cannot be serialized, goes to an invalid topic, to a topic this relay may not
     * write, or to a topic that does not exist (the broker answers, but does not know the topic) can never be
     * published. Everything else, such as an unreachable broker, may pass on a later attempt.
     */
    @Override
    public FailureKind classify(OutboxRecord record, Throwable error) {
        return isPermanent(record, error) ? FailureKind.PERMANENT : FailureKind.TRANSIENT;
    }

    private boolean isPermanent(OutboxRecord record, Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof RecordTooLargeException
                    || cause instanceof RecordBatchTooLargeException
                    || cause instanceof SerializationException
                    || cause instanceof TopicAuthorizationException
                    || cause instanceof InvalidTopicException) {
                return true;
            }
            if (cause instanceof UnknownTopicOrPartitionException
                    || (cause instanceof org.apache.kafka.common.errors.TimeoutException
                            && String.valueOf(cause.getMessage()).contains("not present in metadata"))) {
                return topicIsMissing(record.topic());
            }
        }
        return false;
    }

    private boolean topicIsMissing(String topic) {
        // The answer is kept for a while, so that a batch full of records for one topic, or an outage that fails
        // every record, asks the cluster once rather than once per record inside the relay's transaction.
        long now = System.nanoTime();
        TopicCheck known = this.topicChecks.get(topic);
        if (known != null && now - known.checkedAt() < TOPIC_CHECK_TTL.toNanos()) {
            return known.missing();
        }
        boolean missing;
        try {
            admin().describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(TOPIC_CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            missing = false;
        } catch (ExecutionException ex) {
            missing = ex.getCause() instanceof UnknownTopicOrPartitionException;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            missing = false;
        } catch (java.util.concurrent.TimeoutException | RuntimeException ex) {
            missing = false;
        }
        this.topicChecks.put(topic, new TopicCheck(missing, now));
        return missing;
    }

    private record TopicCheck(boolean missing, long checkedAt) {}

    private Admin admin() {
        Admin current = this.admin;
        if (current == null) {
            synchronized (this) {
                current = this.admin;
                if (current == null) {
                    current = Admin.create(this.adminConfig);
                    this.admin = current;
                }
            }
        }
        return current;
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Closes the admin client, and the producer if this publisher created it. */
    @Override
    public void close() {
        Admin current = this.admin;
        if (current != null) {
            current.close(ADMIN_TIMEOUT);
        }
        if (this.ownsProducerFactory
                && this.template.getProducerFactory() instanceof DefaultKafkaProducerFactory<?, ?> factory) {
            factory.destroy();
        }
    }
}
