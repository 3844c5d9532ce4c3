package dev.txoutbox.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.BrokerNotAvailableException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.CorruptRecordException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.LeaderNotAvailableException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownServerException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaProducerException;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

class KafkaRecordPublisherTests {

    private final RelaySettings settings =
            RelaySettings.builder().sendTimeout(Duration.ofSeconds(20)).build();

    @Test
    void durabilityAndSerializersAreEnforcedWhateverTheApplicationConfigured() {
        Map<String, Object> properties = KafkaRecordPublisher.producerProperties(
                Map.of(
                        ProducerConfig.ACKS_CONFIG, "1",
                        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false",
                        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class),
                this.settings);

        assertThat(properties)
                .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true")
                .containsEntry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName())
                .containsEntry(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    }

    @Test
    void keysGoOutWithTheSerializerNamedForTheRelayNotTheApplicationsKeySerializer() {
        Map<String, Object> properties = KafkaRecordPublisher.producerProperties(
                Map.of(
                        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                        KafkaRecordPublisher.KEY_SERIALIZER_CONFIG, UpperCaseKeys.class),
                this.settings);

        assertThat(properties)
                .containsEntry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, RelayKeySerializer.class.getName())
                .containsEntry(KafkaRecordPublisher.KEY_SERIALIZER_DELEGATE_CONFIG, UpperCaseKeys.class)
                .doesNotContainKey(KafkaRecordPublisher.KEY_SERIALIZER_CONFIG);
    }

    @Test
    void aKeySerializerThatFailsInTheRelayMakesTheSendUnavailableAndWorksAgainWhenItRecovers() throws Exception {
        String topic = EmbeddedInfrastructure.newTopic("key-serializer", 1);
        Map<String, Object> config = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                EmbeddedInfrastructure.kafkaBootstrapServers(),
                KafkaRecordPublisher.KEY_SERIALIZER_CONFIG,
                RegistryLikeKeys.class);
        try (KafkaRecordPublisher publisher = KafkaRecordPublisher.create(config, this.settings)) {
            RegistryLikeKeys.reachable = false;
            OutboxRecord record = record(topic);
            Throwable failure = catchThrowable(() -> publisher.publish(record).get(30, TimeUnit.SECONDS));
            assertThat(failure).as("the send while the registry is unreachable").isNotNull();
            assertThat(publisher.classify(record, failure))
                    .as("a key the serializer accepted when the event was written, refused now: " + failure)
                    .isEqualTo(FailureKind.UNAVAILABLE);
            assertThat(failure).rootCause().isInstanceOf(ConnectException.class);

            RegistryLikeKeys.reachable = true;
            assertThat(publisher.publish(record)).succeedsWithin(Duration.ofSeconds(30));
        } finally {
            RegistryLikeKeys.reachable = true;
        }
    }

    @Test
    void sendBufferedSendsTheRecordsTheProducerHoldsForItsLingerAtOnce() throws Exception {
        String topic = EmbeddedInfrastructure.newTopic("send-buffered", 1);
        Map<String, Object> config = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, "120000",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        try (KafkaRecordPublisher publisher = KafkaRecordPublisher.create(config, this.settings)) {
            CompletableFuture<?> held = publisher.publish(record(topic));
            assertThat(held)
                    .as("held for the producer's two-minute linger")
                    .failsWithin(Duration.ofSeconds(1))
                    .withThrowableOfType(java.util.concurrent.TimeoutException.class);

            publisher.sendBuffered();
            assertThat(held).succeedsWithin(Duration.ofSeconds(30));
        }
    }

    @Test
    void withAProducerForEachThreadSendBufferedLeavesTheProducersAlone() {
        String topic = EmbeddedInfrastructure.newTopic("send-buffered-per-thread", 1);
        DefaultKafkaProducerFactory<String, byte[]> factory =
                new DefaultKafkaProducerFactory<>(KafkaRecordPublisher.producerProperties(
                        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                        this.settings));
        factory.setProducerPerThread(true);
        AtomicInteger created = new AtomicInteger();
        factory.addListener(new ProducerFactory.Listener<>() {
            @Override
            public void producerAdded(String id, Producer<String, byte[]> producer) {
                created.incrementAndGet();
            }
        });
        try (KafkaRecordPublisher publisher = new KafkaRecordPublisher(new KafkaTemplate<>(factory))) {
            assertThat(publisher.publish(record(topic))).succeedsWithin(Duration.ofSeconds(30));
            publisher.sendBuffered();

            // A flush on a thread of its own would get a producer of its own, and leave it open.
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> created.get() == 1);
        } finally {
            factory.closeThreadBoundProducer();
            factory.destroy();
        }
    }

    /** A key serializer whose registry can be made unreachable, as a schema registry's serializer's can. */
    public static final class RegistryLikeKeys implements Serializer<String> {

        static volatile boolean reachable = true;

        @Override
        public byte[] serialize(String topic, String key) {
            if (!reachable) {
                throw new IllegalStateException("registry request failed", new ConnectException("Connection refused"));
            }
            return key.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A key serializer of the relay's own, as a schema registry's would be. */
    public static final class UpperCaseKeys implements Serializer<String> {

        @Override
        public byte[] serialize(String topic, String key) {
            return key.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8);
        }
    }

    @Test
    void theProducersTimeoutsFollowTheSendTimeout() {
        Map<String, Object> properties = KafkaRecordPublisher.producerProperties(Map.of(), this.settings);

        assertThat(properties)
                .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000")
                .containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000")
                .containsEntry(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000")
                .containsEntry(ProducerConfig.BATCH_SIZE_CONFIG, "65536")
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "1");
    }

    @Test
    void timeoutsTheUserSetAreKept() {
        Map<String, Object> properties = KafkaRecordPublisher.producerProperties(
                Map.of(
                        ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000",
                        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000",
                        ProducerConfig.LINGER_MS_CONFIG, "20"),
                this.settings);

        assertThat(properties)
                .containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, "1000")
                .containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000")
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "20")
                .doesNotContainKey(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG);
    }

    @Test
    void aRecordThatCanNeverBeAcceptedIsPermanentWhereverItsCauseSitsInTheChain() {
        assertThat(kinds(
                        new RecordTooLargeException("The message is 2000000 bytes when serialized"),
                        new RecordBatchTooLargeException("batch too large"),
                        new SerializationException("cannot serialize"),
                        new InvalidTopicException("Invalid topics: [bad topic]"),
                        new InvalidRecordException("compacted topic cannot accept a record without key")))
                .containsOnly(FailureKind.PERMANENT);
    }

    @Test
    void anUnreachableBrokerALeaderlessPartitionAMissingTopicOrMissingRightsAreUnavailable() {
        assertThat(kinds(
                        new TimeoutException("Topic orders not present in metadata after 7500 ms."),
                        new TimeoutException("Expiring 12 record(s) for orders-0: 30012 ms has passed"),
                        new NotLeaderOrFollowerException("not leader"),
                        new LeaderNotAvailableException("no leader"),
                        new UnknownTopicOrPartitionException("This server does not host this topic-partition."),
                        new NetworkException("The server disconnected before a response was received."),
                        new NotEnoughReplicasException("Messages are rejected since there are fewer in-sync replicas"),
                        new DisconnectException("disconnected"),
                        new BrokerNotAvailableException("broker not available"),
                        new TopicAuthorizationException(Set.of("orders")),
                        new ClusterAuthorizationException("Cluster authorization failed."),
                        new SaslAuthenticationException("Authentication failed: Invalid username or password")))
                .containsOnly(FailureKind.UNAVAILABLE);
    }

    @Test
    void anythingElseIsTransient() {
        assertThat(kinds(
                        new IllegalStateException("broker said no"),
                        new CorruptRecordException("This message has failed its CRC checksum"),
                        new InvalidTimestampException("timestamp out of range"),
                        new UnknownServerException("The server experienced an unexpected error"),
                        new KafkaException("Producer closed while send in progress")))
                .containsOnly(FailureKind.TRANSIENT);
    }

    @Test
    void aBatchTheProducerExpiredMayStillBeWrittenButARecordThatNeverLeftSendMayNot() {
        assertThat(wrapped(new TimeoutException(
                                "Expiring 12 record(s) for orders-0: 30012 ms has passed since batch creation"))
                        .map(KafkaRecordPublisher::mayStillBeWritten))
                .as("an expired batch may already be on its way to the broker")
                .containsOnly(true);
        assertThat(Stream.of(
                                new TimeoutException("Topic orders not present in metadata after 7500 ms."),
                                new BufferExhaustedException("Failed to allocate 100 bytes within 7500 ms"),
                                new NotLeaderOrFollowerException("not leader"),
                                new RecordTooLargeException("The message is 2000000 bytes when serialized"),
                                new IllegalStateException("broker said no"))
                        .flatMap(KafkaRecordPublisherTests::wrapped)
                        .map(KafkaRecordPublisher::mayStillBeWritten))
                .as("send() refused these before handing them over, or the broker refused them")
                .containsOnly(false);
    }

    @Test
    void aMissingTopicIsUnavailableWithoutAskingTheCluster() {
        // Nothing listens at this address: a publisher that asked the cluster whether the topic exists would get no
        // answer, and could not tell a missing topic from an outage.
        try (KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1"), this.settings)) {
            assertThat(publisher.classify(
                            record("created-later"),
                            new KafkaProducerException(
                                    new ProducerRecord<>("created-later", "k", "v"),
                                    "Failed to send",
                                    new UnknownTopicOrPartitionException("unknown topic"))))
                    .isEqualTo(FailureKind.UNAVAILABLE);
        }
    }

    @Test
    void aProducerSettingThatContradictsIdempotenceFailsCreationNamingTheSettingTheValueAndTheFix() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1");
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "10");

        assertThatExceptionOfType(InvalidProducerConfigurationException.class)
                .isThrownBy(() -> KafkaRecordPublisher.create(config, this.settings))
                .satisfies(ex -> {
                    assertThat(ex.getSetting()).isEqualTo("max.in.flight.requests.per.connection");
                    assertThat(ex.getValue()).isEqualTo("10");
                })
                .withMessageContaining("max.in.flight.requests.per.connection=10")
                .withMessageContaining("idempotent")
                .withMessageContaining("acks=all")
                .withMessageContaining("Set the producer's max.in.flight.requests.per.connection")
                .withMessageNotContaining("outbox.relay");
    }

    @Test
    void aProducerSettingOfTheWrongTypeFailsCreationNamingIt() {
        assertThatExceptionOfType(InvalidProducerConfigurationException.class)
                .isThrownBy(() -> KafkaRecordPublisher.create(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                "localhost:1",
                                ProducerConfig.BATCH_SIZE_CONFIG,
                                "large"),
                        this.settings))
                .satisfies(ex -> assertThat(ex.getSetting()).isEqualTo("batch.size"))
                .withMessageContaining("batch.size=large");
    }

    @Test
    void aDeliveryTimeoutShorterThanARequestFailsCreationAsTheProducerWouldAtItsFirstSend() {
        assertThatExceptionOfType(InvalidProducerConfigurationException.class)
                .isThrownBy(() -> KafkaRecordPublisher.create(
                        Map.of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                "localhost:1",
                                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                                "1000",
                                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                                "5000"),
                        this.settings))
                .satisfies(ex -> assertThat(ex.getSetting()).isEqualTo("delivery.timeout.ms"))
                .withMessageContaining("delivery.timeout.ms=1000");
    }

    @Test
    void withTheRelaysTimeoutsARecordMayLandUntilTheSendTimeoutPlusARequestTimeout() {
        assertThat(maxDeliveryTime(Map.of())).isEqualTo(Duration.ofSeconds(20 + 10));
    }

    @Test
    void withOnlyTheRequestTimeoutSetKafkasDefaultDeliveryTimeoutOfTwoMinutesApplies() {
        assertThat(maxDeliveryTime(Map.of(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000")))
                .isEqualTo(Duration.ofSeconds(120 + 5));
    }

    @Test
    void withOnlyTheDeliveryTimeoutSetKafkasDefaultRequestTimeoutIsTheMargin() {
        assertThat(maxDeliveryTime(Map.of(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "60000")))
                .isEqualTo(Duration.ofSeconds(60 + 30));
    }

    @Test
    void aTemplateTheCallerConfiguredIsReadAsTheProducerWillRaiseItsDeliveryTimeout() {
        KafkaTemplate<String, byte[]> template = new KafkaTemplate<>(new DefaultKafkaProducerFactory<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                "localhost:1",
                ProducerConfig.LINGER_MS_CONFIG,
                100_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
                40_000)));

        assertThat(new KafkaRecordPublisher(template).maxDeliveryTime())
                .as("delivery.timeout.ms is raised to linger.ms + request.timeout.ms when not set")
                .isEqualTo(Duration.ofMillis(140_000 + 40_000));
    }

    private Duration maxDeliveryTime(Map<String, Object> given) {
        Map<String, Object> config = new HashMap<>(given);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1");
        try (KafkaRecordPublisher publisher = KafkaRecordPublisher.create(config, this.settings)) {
            return publisher.maxDeliveryTime();
        }
    }

    /** How each error is classified, as the relay sees it: wrapped by spring-kafka and by the future. */
    private static List<FailureKind> kinds(Throwable... errors) {
        return Arrays.stream(errors)
                .flatMap(error -> Stream.of(
                        error,
                        new KafkaProducerException(new ProducerRecord<>("t", "k", "v"), "Failed to send", error),
                        new CompletionException(new ExecutionException(error))))
                .map(KafkaRecordPublisher::classify)
                .toList();
    }

    /** An error as the relay may see it: bare, wrapped by spring-kafka, and by the future. */
    private static Stream<Throwable> wrapped(Throwable error) {
        return Stream.of(
                error,
                new KafkaProducerException(new ProducerRecord<>("t", "k", "v"), "Failed to send", error),
                new CompletionException(new ExecutionException(error)));
    }

    private static OutboxRecord record(String topic) {
        return new OutboxRecord(
                1L, UUID.randomUUID(), topic, "k", "T", new byte[0], Map.of(), Instant.now(), 0, Instant.now());
    }
}
