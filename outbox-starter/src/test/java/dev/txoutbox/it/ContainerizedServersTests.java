package dev.txoutbox.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The same round trip against PostgreSQL and Kafka in containers, the server builds users run in production. Runs
 * where a Docker engine is available and is skipped elsewhere.
 */
@SpringBootTest
@Testcontainers(disabledWithoutDocker = true)
class ContainerizedServersTests {

    private static final String TOPIC = "invoices";

    @Container
    static final PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17-alpine");

    @Container
    static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.0");

    @DynamicPropertySource
    static void servers(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", postgres::getJdbcUrl);
        registry.add("spring.datasource.username", postgres::getUsername);
        registry.add("spring.datasource.password", postgres::getPassword);
        registry.add("spring.kafka.bootstrap-servers", kafka::getBootstrapServers);
        registry.add("spring.jpa.hibernate.ddl-auto", () -> "create");
        registry.add("test.topic", () -> TOPIC);
        registry.add("test.audit-topic", () -> "audit");
    }

    @Autowired
    private InvoiceService invoices;

    @Autowired
    private OutboxStore store;

    @Test
    void aCommittedEventIsPublishedAndARolledBackOneIsNot() {
        InvoiceService.InvoiceIssued issued = this.invoices.issue("alice", 100);
        assertThatThrownBy(() -> this.invoices.issueThenFail("bob", 5)).isInstanceOf(IllegalStateException.class);

        await().atMost(Duration.ofSeconds(60)).until(() -> this.store.count() == 0);
        try (TopicReader reader = new TopicReader(kafka.getBootstrapServers(), TOPIC)) {
            ConsumerRecord<String, byte[]> record = reader.awaitRecord(
                    candidate -> String.valueOf(issued.id()).equals(candidate.key()), Duration.ofSeconds(30));
            assertThat(record.value()).isNotEmpty();
            assertThat(reader.endOffsetTotal()).isEqualTo(1);
        }
    }
}
