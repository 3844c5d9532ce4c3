package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.WrittenEvents;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.jdbc.test.autoconfigure.AutoConfigureTestDatabase;
import org.springframework.boot.jdbc.test.autoconfigure.JdbcTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Import;

/**
 * A slice test: only the JDBC part of the application, the service under test, and the outbox's writer brought by
 * {@link AutoConfigureOutboxTest}; no relay, so no Kafka.
 */
@JdbcTest
@AutoConfigureTestDatabase(replace = AutoConfigureTestDatabase.Replace.NONE)
@AutoConfigureOutboxTest
@Import({EmbeddedPostgresConfiguration.class, PaymentService.class})
class SliceTests {

    @Autowired
    private PaymentService payments;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private ApplicationContext context;

    @Test
    void annotatedMethodWritesItsEventInASliceTestWithoutKafka() {
        this.payments.take("acme", "slice-1", 800);

        assertThat(this.writtenEvents.single("payments"))
                .hasKey("slice-1")
                .payload(PaymentTaken.class)
                .isEqualTo(new PaymentTaken("slice-1", 800));
        assertThat(this.context.getBeanProvider(OutboxRelay.class).getIfAvailable())
                .isNull();
    }
}
