package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.transaction.annotation.Transactional;

/**
 * A @Transactional test (the pattern docs/testing.md shows first) that calls awaitDrained(): the store counts rows in
 * the test's own transaction, which holds its uncommitted rows, so the drain can never succeed. It waits its whole
 * timeout and then reports "not drained" with rows and retry advice, never saying that the test's transaction is the
 * cause.
 */
@SpringBootTest(properties = "outbox.relay.send-timeout=5s")
@AutoConfigureOutboxTest
@EmbeddedKafka
@Import(EmbeddedPostgresConfiguration.class)
@Transactional
class DrainInsideTransactionTests {

    @Autowired
    private PaymentService payments;

    @Autowired
    private OutboxDrain outboxDrain;

    @Test
    void drainInsideTheTestsTransactionFailsAtOnceAndSaysWhy() {
        this.payments.take("acme", "in-transaction", 100);

        assertThatThrownBy(() -> this.outboxDrain.awaitDrained(Duration.ofSeconds(3)))
                .satisfies(error -> System.err.println("REVIEW-MESSAGE " + error))
                .hasMessageNotContaining("was not drained")
                .hasMessageContaining("transaction");
    }
}
