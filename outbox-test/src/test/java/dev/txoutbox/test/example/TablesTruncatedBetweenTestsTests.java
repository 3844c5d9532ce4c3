package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.WrittenEvents;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Tests that clean the database before each test, as many suites do (in {@code @BeforeEach}, or an {@code @Sql}
 * script: both run after the kit's listener cleared WrittenEvents): TRUNCATE ... RESTART IDENTITY on PostgreSQL, a
 * plain TRUNCATE resets AUTO_INCREMENT on MariaDB and MySQL: the outbox's ids start again at 1, while WrittenEvents
 * keeps the highest id it has ever cleared up to, so every later test sees no events at all.
 */
@SpringBootTest(properties = {"outbox.relay.enabled=false", "spring.kafka.admin.auto-create=false"})
@AutoConfigureOutboxTest
@Import(EmbeddedPostgresConfiguration.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TablesTruncatedBetweenTestsTests {

    @Autowired
    private PaymentService payments;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private JdbcClient jdbc;

    @BeforeEach
    void cleanDatabase() {
        this.jdbc.sql("TRUNCATE payment, outbox_event RESTART IDENTITY").update();
    }

    @Test
    @Order(1)
    void firstTestSeesItsEvents() {
        this.payments.take("acme", "first-1", 100);
        this.payments.take("acme", "first-2", 100);

        assertThat(this.writtenEvents.ofTopic(PaymentService.PAYMENTS)).hasSize(2);
    }

    @Test
    @Order(2)
    void secondTestSeesItsEventToo() {
        this.payments.take("acme", "second-1", 100);

        assertThat(this.writtenEvents.single(PaymentService.PAYMENTS)).hasKey("second-1");
    }
}
