package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvents;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The service against PostgreSQL and Kafka in containers, connected with {@code @ServiceConnection}. Runs where a
 * Docker engine is available and is skipped elsewhere.
 */
@SpringBootTest
@AutoConfigureOutboxTest
@Testcontainers(disabledWithoutDocker = true)
class ContainersTests {

    @Container
    @ServiceConnection
    static final PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17-alpine");

    @Container
    @ServiceConnection
    static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.2");

    @Autowired
    private PaymentService payments;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private OutboxDrain outboxDrain;

    @Test
    void committedEventIsPublishedAndSeenAsWritten() {
        this.payments.take("acme", "container-1", 900);

        this.outboxDrain.awaitDrained();

        assertThat(this.writtenEvents.single("payments"))
                .hasKey("container-1")
                .payload(PaymentTaken.class)
                .isEqualTo(new PaymentTaken("container-1", 900));
    }
}
