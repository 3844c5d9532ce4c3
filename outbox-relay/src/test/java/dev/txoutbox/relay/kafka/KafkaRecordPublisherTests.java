package dev.txoutbox.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.RelaySettings;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KafkaRecordPublisherTests {

    private final RelaySettings settings = RelaySettings.defaults().withSendTimeout(Duration.ofSeconds(20));

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
}
