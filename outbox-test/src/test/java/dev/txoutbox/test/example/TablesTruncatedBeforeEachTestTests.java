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
 * script: both run after the kit cleared WrittenEvents), with TRUNCATE ... RESTART IDENTITY (on MariaDB and MySQL any
 * TRUNCATE resets AUTO_INCREMENT): the outbox's row ids start again at 1 in every test, and each test still sees the
 * events it wrote.
 */
@SpringBootTest(properties = {"outbox.relay.enabled=false", "spring.kafka.admin.auto-create=false"})
@AutoConfigureOutboxTest
@Import(EmbeddedPostgresConfiguration.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TablesTruncatedBeforeEachTestTests {

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
    void firstTestSeesTheEventsItWrote() {
        this.payments.take("acme", "first-1", 100);
        this.payments.take("acme", "first-2", 100);

        assertThat(this.writtenEvents.ofTopic(PaymentService.PAYMENTS)).hasSize(2);
    }

    @Test
    @Order(2)
    void laterTestWhoseRowIdsStartedAgainSeesTheEventItWroteToo() {
        this.payments.take("acme", "second-1", 100);

        assertThat(this.writtenEvents.single(PaymentService.PAYMENTS)).hasKey("second-1");
    }
}
