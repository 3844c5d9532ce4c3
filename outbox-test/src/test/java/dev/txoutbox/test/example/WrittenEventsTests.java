package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvent;
import dev.txoutbox.test.WrittenEvents;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A service's events asserted without Kafka: the relay is off, and the test reads what each call wrote to the outbox,
 * in the test's transaction or after it committed.
 */
// Without Kafka: no relay, and no topics created at start-up.
@SpringBootTest(properties = {"outbox.relay.enabled=false", "spring.kafka.admin.auto-create=false"})
@AutoConfigureOutboxTest
@Import(EmbeddedPostgresConfiguration.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WrittenEventsTests {

    @Autowired
    private PaymentService payments;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private OutboxDrain outboxDrain;

    @Autowired
    private OutboxStore outboxStore;

    @Autowired
    private TransactionTemplate transactions;

    @Test
    @Transactional
    void eventOfACallIsSeenInTheTestTransactionWithTopicKeyTypeHeadersAndPayload() {
        this.payments.take("acme", "order-1", 1250);

        assertThat(this.writtenEvents.single(PaymentService.PAYMENTS))
                .hasTopic("payments")
                .hasKey("order-1")
                .hasType("PaymentTaken")
                .hasHeader("tenant", "acme")
                .payload(PaymentTaken.class)
                .isEqualTo(new PaymentTaken("order-1", 1250));
    }

    @Test
    @Transactional
    void tombstonesAndTextPayloadsAreSeenAsTheyAreWritten() {
        this.payments.take("acme", "order-2", 300);
        this.writtenEvents.clear();

        this.payments.forget("order-2", "customer asked");

        assertThat(this.writtenEvents.all())
                .extracting(WrittenEvent::topic, WrittenEvent::type)
                .containsExactly(tuple("payments", "PaymentForgotten"), tuple("notes", "String"));
        assertThat(this.writtenEvents.single("payments")).isTombstone();
        assertThat(this.writtenEvents.single("notes").payload(String.class)).isEqualTo("forgotten: customer asked");
        assertThat(this.writtenEvents.ofKey("notes", "order-2")).hasSize(1);
    }

    @Test
    void callThatRolledBackLeavesNoWrittenEvent() {
        assertThatThrownBy(() -> this.transactions.executeWithoutResult(transaction -> {
                    this.payments.take("acme", "order-3", 99);
                    assertThat(this.writtenEvents.ofTopic("payments")).hasSize(1);
                    throw new IllegalStateException("card declined");
                }))
                .hasMessage("card declined");

        assertThat(this.writtenEvents.all()).isEmpty();
    }

    @Test
    @Order(1)
    void committedEventsAreSeenAfterTheCallWhileTheRelayIsOff() {
        long rowsBefore = this.outboxStore.count();

        this.payments.take("acme", "order-4", 700);

        assertThat(this.writtenEvents.single("payments").payload(PaymentTaken.class))
                .isEqualTo(new PaymentTaken("order-4", 700));
        assertThat(this.outboxStore.count()).isEqualTo(rowsBefore + 1);
    }

    @Test
    @Order(2)
    void eventsThatEarlierTestsCommittedAreNotSeen() {
        assertThat(this.outboxStore.count()).isPositive();

        assertThat(this.writtenEvents.all()).isEmpty();
    }

    @Test
    @Transactional
    void clearForgetsTheEventsWrittenSoFar() {
        this.payments.take("acme", "order-5", 10);

        this.writtenEvents.clear();
        this.payments.take("acme", "order-6", 20);

        assertThat(this.writtenEvents.ofTopic("payments"))
                .singleElement()
                .extracting(WrittenEvent::key)
                .isEqualTo("order-6");
    }

    @Test
    @Transactional
    void singleSaysWhatWasWrittenWhenATopicGotNoEvent() {
        this.payments.take("acme", "order-7", 5);

        assertThatThrownBy(() -> this.writtenEvents.single("refunds"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Expected one event written to topic 'refunds' but found 0")
                .hasMessageContaining("PaymentTaken to 'payments' with key 'order-7'");
    }

    @Test
    @Transactional
    void payloadReadAsTheWrongClassSaysWhichEventAndClass() {
        this.payments.take("acme", "order-8", 5);

        assertThatIllegalStateException()
                .isThrownBy(() -> this.writtenEvents.single("payments").payload(Integer.class))
                .withMessageContaining("The payload of PaymentTaken to 'payments' with key 'order-8'")
                .withMessageContaining("cannot be read as a java.lang.Integer");
    }

    @Test
    @Transactional
    void payloadIsReadWithADeserializerOfTheTestsChoice() {
        this.payments.take("acme", "order-9", 5);

        String read = this.writtenEvents
                .single("payments")
                .payload(bytes -> new String(bytes, StandardCharsets.UTF_8).toUpperCase(Locale.ROOT));

        assertThat(read).isEqualTo("{\"ORDERID\":\"ORDER-9\",\"CENTS\":5}");
    }

    @Test
    void drainingWithoutARelaySaysThatNothingPublishesTheOutbox() {
        assertThatIllegalStateException()
                .isThrownBy(this.outboxDrain::awaitDrained)
                .withMessageContaining("No outbox relay runs in this application context")
                .withMessageContaining("outbox.relay.enabled=false");
    }
}
