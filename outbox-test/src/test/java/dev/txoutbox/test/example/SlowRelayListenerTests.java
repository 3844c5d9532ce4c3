package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvent;
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
import org.springframework.core.Ordered;
import org.springframework.kafka.test.context.EmbeddedKafka;

/**
 * The relay tells its listeners that a record was published only after the delete of its row committed, so an empty
 * outbox table comes before that news; another listener of the application that is slow to hear it (ordered first
 * here, and held until released) makes that window as wide as a test. The kit hears of each record earlier, when the
 * broker acknowledged it: the drain returns only when the kit knows every event it published, and a late notice of an
 * earlier test's event does not reach the next test.
 */
@SpringBootTest(properties = "outbox.relay.send-timeout=5s")
@AutoConfigureOutboxTest
@EmbeddedKafka
@Import({EmbeddedPostgresConfiguration.class, SlowRelayListenerTests.SlowListener.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlowRelayListenerTests {

    /** Holds the slow listener, and with it the relay's notices of publications, until the second test. */
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    @TestConfiguration(proxyBeanMethods = false)
    static class SlowListener {

        @Bean
        @org.springframework.core.annotation.Order(Ordered.HIGHEST_PRECEDENCE)
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
    void eventIsAmongTheWrittenEventsOnceTheDrainReturnedWhileOtherListenersAreStillBusy() {
        this.payments.take("acme", "drained-then-read", 100);

        this.outboxDrain.awaitDrained();

        assertThat(this.writtenEvents.all()).extracting(WrittenEvent::key).containsExactly("drained-then-read");
    }

    @Test
    @Order(2)
    void nextTestDoesNotSeeTheEarlierTestsEventWhenTheRelayFinallyTellsOfIt() {
        RELEASE.countDown();

        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(this.writtenEvents.all()).isEmpty());
    }
}
