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
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
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

    /**
     * How long closing waits for the records still in the producer. The relay has given up on them when it closes
     * the publisher (their rows stay and are sent again), so waiting longer would only keep a stopping container
     * past its grace period, as spring-kafka's 30 seconds would.
     */
    static final int CLOSE_SECONDS = 2;

    /**
     * The producer property that names the serializer of the records' keys (a class or its name), which are text in
     * the outbox row; unset, keys are sent as UTF-8. The relay reads it instead of {@code key.serializer}, which an
     * application sets for its own templates.
     */
    public static final String KEY_SERIALIZER_CONFIG = "outbox.key.serializer";

    /** Where {@link RelayKeySerializer} finds the serializer that {@link #KEY_SERIALIZER_CONFIG} named. */
    static final String KEY_SERIALIZER_DELEGATE_CONFIG = "outbox.key.serializer.delegate";

    /** How deep a failure's chain of causes is searched for what it says about the record. */
    private static final int MAX_CAUSE_DEPTH = 16;

    private final KafkaTemplate<String, byte[]> template;

    private final boolean ownsProducerFactory;

    private final Duration maxDeliveryTime;

    /** Runs the producer's {@code flush()} for {@link #sendBuffered()}. */
    private final ProducerFlusher flusher;

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
        this.maxDeliveryTime = ProducerConfigCheck.maxDeliveryTime(
                template.getProducerFactory().getConfigurationProperties());
        this.flusher = new ProducerFlusher(template, CLOSE_SECONDS);
    }

    /**
     * Creates a publisher with a producer of its own, configured by
     * {@link #producerProperties(Map, RelaySettings)}; {@link #close()} closes it.
     *
     * @param producerConfig Kafka producer properties, at least {@code bootstrap.servers}
     * @param settings the relay's settings, which bound how long a send may block
     * @throws InvalidProducerConfigurationException when the Kafka client refuses the resulting producer properties,
     *     such as {@code max.in.flight.requests.per.connection} above 5 with the idempotence the relay enforces;
     *     checked here, without connecting, since the producer itself is only created at the first send
     */
    public static KafkaRecordPublisher create(Map<String, Object> producerConfig, RelaySettings settings) {
        return create(producerConfig, settings, factory -> {});
    }

    /**
     * Creates a publisher as {@link #create(Map, RelaySettings)} does, letting {@code customizer} adjust the producer
     * factory (add post-processors or listeners, or change its configuration) before the configuration is checked.
     *
     * @throws InvalidProducerConfigurationException when the Kafka client refuses the customized producer properties
     */
    public static KafkaRecordPublisher create(
            Map<String, Object> producerConfig,
            RelaySettings settings,
            Consumer<DefaultKafkaProducerFactory<String, byte[]>> customizer) {
        Map<String, Object> properties = producerProperties(producerConfig, settings);
        ProducerConfigCheck.validate(properties);
        DefaultKafkaProducerFactory<String, byte[]> factory = new DefaultKafkaProducerFactory<>(properties);
        factory.setPhysicalCloseTimeout(CLOSE_SECONDS);
        customizer.accept(factory);
        requireGuaranteesKept(properties, factory);
        if (!factory.getConfigurationProperties().equals(properties)) {
            ProducerConfigCheck.validate(new HashMap<>(factory.getConfigurationProperties()));
        }
        KafkaTemplate<String, byte[]> template = new KafkaTemplate<>(factory);
        // The relay logs failures itself, once per batch with their events; the template's listener would log
        // every failed record again.
        template.setProducerListener(new ProducerListener<>() {});
        return new KafkaRecordPublisher(template, true);
    }

    /**
     * Refuses a customized factory that no longer keeps what the outbox rests on: a row is deleted once its record is
     * acknowledged, so acknowledgements must stay durable and idempotent ({@code acks=all},
     * {@code enable.idempotence=true}), records must go out as the relay serializes them and outside transactions
     * (every send of a transactional producer fails outside one), and {@code max.request.size} must stay what the
     * configuration says, since the writer refuses events over that size by reading the configuration.
     */
    private static void requireGuaranteesKept(
            Map<String, Object> configured, DefaultKafkaProducerFactory<String, byte[]> factory) {
        Map<String, Object> customized = factory.getConfigurationProperties();
        for (String key : List.of(
                ProducerConfig.ACKS_CONFIG,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG)) {
            if (!Objects.equals(String.valueOf(customized.get(key)), String.valueOf(configured.get(key)))) {
                throw customizedAway(key, customized.get(key), "changed " + key + " from " + configured.get(key));
            }
        }
        if (factory.getKeySerializer() != null || factory.getValueSerializer() != null) {
            throw customizedAway(null, null, "set a serializer of its own");
        }
        if (factory.getTransactionIdPrefix() != null) {
            throw customizedAway(
                    "transactional.id", factory.getTransactionIdPrefix(), "made the producer transactional");
        }
    }

    private static InvalidProducerConfigurationException customizedAway(
            @Nullable String setting, @Nullable Object value, String change) {
        return new InvalidProducerConfigurationException(
                setting,
                value,
                "A customizer of the outbox relay's producer factory " + change + ".",
                "The relay needs an idempotent producer with acks=all, its own serializers, no transactions, and the"
                        + " configured max.request.size, which the writer's size limit follows: set the producer's"
                        + " configuration instead, and leave those to the relay.");
    }

    /**
     * The producer properties the relay runs with: the given ones, with the settings that the outbox's guarantees
     * rest on enforced ({@code acks=all}, idempotence, byte-array values, and keys by {@link #KEY_SERIALIZER_CONFIG} or
     * as strings), and {@code max.block.ms}
     * a quarter of the send timeout unless set explicitly, so that a send to a missing topic or an unreachable
     * broker cannot use up a batch's time.
     */
    public static Map<String, Object> producerProperties(Map<String, Object> given, RelaySettings settings) {
        Map<String, Object> properties = new HashMap<>(given);
        enforce(properties, ProducerConfig.ACKS_CONFIG, "all");
        enforce(properties, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // The application's serializers are for its own templates. Values were serialized when they were written;
        // keys are text in the row, sent as such unless a serializer is named for them.
        // A named one runs inside RelayKeySerializer, which tells its failures from the record's.
        Object keySerializer = properties.remove(KEY_SERIALIZER_CONFIG);
        if (keySerializer != null) {
            properties.put(KEY_SERIALIZER_DELEGATE_CONFIG, keySerializer);
        }
        properties.put(
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                keySerializer != null ? RelayKeySerializer.class.getName() : StringSerializer.class.getName());
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
        headers.add(header(RecordHeaderNames.EVENT_ID, record.eventId().toString()));
        headers.add(header(RecordHeaderNames.EVENT_TYPE, record.eventType()));
        record.headers().forEach((name, value) -> headers.add(header(name, value)));
        ProducerRecord<String, byte[]> producerRecord = new ProducerRecord<>(
                record.topic(), null, record.createdAt().toEpochMilli(), record.key(), record.payload(), headers);
        return this.template.send(producerRecord);
    }

    /**
     * Asks the producer to send what it holds without waiting for its {@code linger.ms}: a thread of its own calls the
     * producer's {@code flush()}, which also sends at once whatever is handed to the producer until every record it
     * held is acknowledged or has failed, the application's records included where it shares the template. Does not
     * block. Does nothing where that thread would reach another producer than the relay's (a factory with a producer
     * for each thread) or where the template is transactional.
     */
    @Override
    public void sendBuffered() {
        this.flusher.request();
    }

    /** The configuration of the producer this publisher sends with. */
    public Map<String, Object> producerConfiguration() {
        return this.template.getProducerFactory().getConfigurationProperties();
    }

    /**
     * What a failed send says about the record, read from the types in its chain of causes, without asking the
     * cluster. {@link FailureKind#PERMANENT} when the record itself can never be accepted: it is too large, it cannot
     * be serialized, its topic name is invalid, or the broker refused the record as invalid.
     * {@link FailureKind#UNAVAILABLE} when the destination cannot take it now: the broker is unreachable or slow, a
     * partition has no leader or too few in-sync replicas, the topic does not exist (yet), the relay is not
     * authorized or cannot authenticate. {@link FailureKind#TRANSIENT} otherwise.
     */
    @Override
    public FailureKind classify(OutboxRecord record, Throwable error) {
        return classify(error);
    }

    static FailureKind classify(Throwable error) {
        Throwable cause = error;
        for (int depth = 0; cause != null && depth < MAX_CAUSE_DEPTH; depth++, cause = cause.getCause()) {
            FailureKind kind = kindOf(cause);
            if (kind != null) {
                return kind;
            }
        }
        return FailureKind.TRANSIENT;
    }

    private static @Nullable FailureKind kindOf(Throwable error) {
        // InvalidRecordException is the broker's verdict on the record's own content (such as a record without a
        // key on a compacted topic): the same record is refused on every attempt. InvalidTimestampException is not
        // among these: a timestamp ahead of the broker's clock is accepted once that clock catches up.
        // Before SerializationException, which a key serializer may throw too: see RelayKeySerializer.
        if (error instanceof RelayKeySerializer.KeySerializerUnavailableException) {
            return FailureKind.UNAVAILABLE;
        }
        if (error instanceof RecordTooLargeException
                || error instanceof RecordBatchTooLargeException
                || error instanceof SerializationException
                || error instanceof InvalidTopicException
                || error instanceof InvalidRecordException) {
            return FailureKind.PERMANENT;
        }
        // Kafka counts a corrupt record as retriable (a bit flipped on the way), but a record the broker refuses as
        // corrupt every time must still end in the dead letters, after the attempts allowed.
        if (error instanceof CorruptRecordException) {
            return FailureKind.TRANSIENT;
        }
        // Retriable: timeouts (including a topic "not present in metadata", which does not exist yet or whose
        // broker is unreachable), no leader, unknown topic or partition, not enough replicas, network errors. Missing
        // permissions and credentials concern every record alike and are fixed without touching the events.
        if (error instanceof RetriableException
                || error instanceof AuthorizationException
                || error instanceof AuthenticationException
                || error instanceof BrokerNotAvailableException) {
            return FailureKind.UNAVAILABLE;
        }
        return null;
    }

    /**
     * True when a {@link org.apache.kafka.common.errors.TimeoutException} is in the failure's chain of causes: the
     * producer expired the record after {@code delivery.timeout.ms} ("Expiring N record(s) ... has passed since batch
     * creation"), while a produce request that carries it may still be written by the broker. Not for the timeouts
     * that {@code send()} itself raises before handing the record over: a topic "not present in metadata" after
     * {@code max.block.ms}, or no room in the producer's buffer.
     */
    @Override
    public boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
        return mayStillBeWritten(error);
    }

    static boolean mayStillBeWritten(Throwable error) {
        Throwable cause = error;
        for (int depth = 0; cause != null && depth < MAX_CAUSE_DEPTH; depth++, cause = cause.getCause()) {
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException timeout) {
                return !(timeout instanceof BufferExhaustedException)
                        && (timeout.getMessage() == null
                                || !timeout.getMessage().contains("not present in metadata"));
            }
        }
        return false;
    }

    /**
     * The effective {@code delivery.timeout.ms} of the producer (Kafka's default of 120 seconds unless set, raised to
     * {@code linger.ms + request.timeout.ms} when it was not set explicitly), plus {@code request.timeout.ms} for a
     * produce request already on its way when the record expired.
     */
    @Override
    public Duration maxDeliveryTime() {
        return this.maxDeliveryTime;
    }

    private static Header header(String name, String value) {
        return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Closes the producer if this publisher created it, waiting at most {@value #CLOSE_SECONDS} seconds for the
     * records still in it: the relay has given up on them by then, and their rows are sent again.
     */
    @Override
    public void close() {
        this.flusher.close();
        if (this.ownsProducerFactory
                && this.template.getProducerFactory() instanceof DefaultKafkaProducerFactory<?, ?> factory) {
            factory.destroy();
        }
    }
}
