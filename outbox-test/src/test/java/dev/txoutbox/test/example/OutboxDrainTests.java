package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvents;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.transaction.annotation.Transactional;

/**
 * The same service with the relay on, against an embedded Kafka broker: "drain now" waits until everything the test
 * committed is on its topic, and says what is left when that does not happen.
 */
// Retries come soon, so that a row whose topic was missing is published soon after the topic is created.
@SpringBootTest(
        properties = {
            "outbox.relay.send-timeout=5s",
            "outbox.relay.retry.initial-delay=100ms",
            "outbox.relay.retry.max-delay=500ms"
        })
@AutoConfigureOutboxTest
@EmbeddedKafka(brokerProperties = "auto.create.topics.enable=false")
@Import(EmbeddedPostgresConfiguration.class)
class OutboxDrainTests {

    @Autowired
    private PaymentService payments;

    @Autowired
    private OutboxDrain outboxDrain;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private OutboxStore outboxStore;

    @Autowired
    private EmbeddedKafkaBroker kafka;

    @Test
    void drainReturnsOnceEveryCommittedEventIsOnItsTopic() {
        try (Consumer<String, String> consumer = consumer("drain")) {
            consumer.subscribe(List.of(PaymentService.PAYMENTS));
            for (int order = 1; order <= 3; order++) {
                this.payments.take("acme", "drained-" + order, order * 100L);
            }

            this.outboxDrain.awaitDrained();

            assertThat(this.outboxStore.count()).isZero();
            ConsumerRecords<String, String> records = KafkaTestUtils.getRecords(consumer, Duration.ofSeconds(30), 3);
            assertThat(StreamSupport.stream(records.spliterator(), false).map(ConsumerRecord::key))
                    .contains("drained-1", "drained-2", "drained-3");
        }
    }

    @Test
    void eventsThatTheRelayPublishedAndDeletedAreStillSeenAsWritten() {
        this.payments.take("acme", "published-1", 4200);
        this.outboxDrain.awaitDrained();

        assertThat(this.outboxStore.count()).isZero();
        assertThat(this.writtenEvents.single("payments"))
                .hasKey("published-1")
                .hasHeader("tenant", "acme")
                .payload(PaymentTaken.class)
                .isEqualTo(new PaymentTaken("published-1", 4200));
    }

    @Test
    void drainThatRunsOutOfTimeSaysWhatIsLeftInTheOutbox() {
        this.payments.refund("refunded-1", 200);

        assertThatThrownBy(() -> this.outboxDrain.awaitDrained(Duration.ofSeconds(3)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("The outbox was not drained within PT3S")
                .hasMessageContaining("holds 1 row: 1 of topic 'refunds'")
                .hasMessageContaining("The oldest: OutboxRow[")
                .hasMessageContaining("key=refunded-1")
                .hasMessageContaining("No dead letters");

        // Once the topic exists, the relay's next retry publishes the row.
        this.kafka.addTopics(PaymentService.REFUNDS);
        this.outboxDrain.awaitDrained(Duration.ofSeconds(60));
        assertThat(this.writtenEvents.ofTopic(PaymentService.REFUNDS)).singleElement();
    }

    @Test
    @Transactional
    void drainInsideTheTestsTransactionFailsAtOnceSayingThatItsEventsAreNotCommitted() {
        this.payments.take("acme", "in-transaction", 100);

        assertThatThrownBy(() -> this.outboxDrain.awaitDrained(Duration.ofSeconds(3)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("awaitDrained() was called inside a transaction")
                .hasMessageContaining("no relay can publish them")
                .hasMessageContaining("Remove @Transactional");
    }

    private Consumer<String, String> consumer(String group) {
        Map<String, Object> properties = KafkaTestUtils.consumerProps(this.kafka, group, false);
        return new DefaultKafkaConsumerFactory<>(properties, new StringDeserializer(), new StringDeserializer())
                .createConsumer();
    }
}
