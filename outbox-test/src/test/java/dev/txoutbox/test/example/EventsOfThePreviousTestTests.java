package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvents;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.test.context.EmbeddedKafka;

/**
 * The other side of the same window: the previous test's drain returned before the kit heard of its last published
 * row, the next test's clear() ran (the table empty, so nothing to clear up to), and then the late notification puts
 * the previous test's event among the new test's written events.
 */
@SpringBootTest(properties = "outbox.relay.send-timeout=5s")
@AutoConfigureOutboxTest
@EmbeddedKafka
@Import({EmbeddedPostgresConfiguration.class, EventsOfThePreviousTestTests.SlowListener.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventsOfThePreviousTestTests {

    static final CountDownLatch RELEASE = new CountDownLatch(1);

    @TestConfiguration(proxyBeanMethods = false)
    static class SlowListener {
        @Bean
        @org.springframework.core.annotation.Order(0)
        OutboxRelayListener slowListener() {
            return new OutboxRelayListener() {
                @Override
                public void published(OutboxRecord record, Instant acknowledgedAt) {
                    try {
                        RELEASE.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
        }
    }

    @Autowired
    private PaymentService payments;

    @Autowired
    private OutboxDrain outboxDrain;

    @Autowired
    private WrittenEvents writtenEvents;

    @Test
    @Order(1)
    void firstTestWritesAndDrains() {
        this.payments.take("acme", "first-test", 100);
        this.outboxDrain.awaitDrained();
    }

    @Test
    @Order(2)
    void secondTestWroteNothingAndSeesNothing() {
        RELEASE.countDown();

        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(this.writtenEvents.all()).isEmpty());
    }
}
