package dev.txoutbox.test.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvent;
import dev.txoutbox.test.WrittenEvents;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.kafka.test.context.EmbeddedKafka;

/**
 * The relay deletes a published row when its cycle commits and tells its listeners (the kit's PublishedRecords
 * among them) only afterwards. OutboxDrain returns as soon as the table is empty, so the documented pattern
 * "awaitDrained(); writtenEvents.single(topic)" reads in that window. Another relay listener that is slower than
 * the kit's (ordered first) makes the window wide enough to see every time; without it the window is short but
 * there.
 */
@SpringBootTest(properties = "outbox.relay.send-timeout=5s")
@AutoConfigureOutboxTest
@EmbeddedKafka
@Import({EmbeddedPostgresConfiguration.class, DrainThenWrittenEventsTests.SlowListener.class})
class DrainThenWrittenEventsTests {

    static final CountDownLatch RELEASE = new CountDownLatch(1);

    @TestConfiguration(proxyBeanMethods = false)
    static class SlowListener {
        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        OutboxRelayListener slowMetricsListener() {
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
    void anEventSeenAfterTheDrainReturnedIsAmongTheWrittenEvents() {
        this.payments.take("acme", "drained-then-read", 100);
        this.outboxDrain.awaitDrained();

        List<WrittenEvent> seen = this.writtenEvents.all();
        RELEASE.countDown();

        assertThat(seen).extracting(WrittenEvent::key).containsExactly("drained-then-read");
    }
}
