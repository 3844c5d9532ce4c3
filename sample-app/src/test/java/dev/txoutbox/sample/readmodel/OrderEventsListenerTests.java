package dev.txoutbox.sample.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.sample.SampleIntegrationTest;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The read-model consumer processes each event id once: a redelivery is recognized by its id, before the version
 * check is even asked. The order ids are far above those the API hands out.
 */
class OrderEventsListenerTests extends SampleIntegrationTest {

    @Autowired
    private OrderEventsListener listener;

    @Autowired
    private OrderViewRepository views;

    @Test
    void aRedeliveredEventIsSkippedByItsEventId() {
        long id = 2_000_001;
        UUID eventId = UUID.randomUUID();
        this.listener.on(record(
                id,
                eventId,
                "{\"id\":%d,\"customer\":\"dan\",\"product\":\"desk\",\"quantity\":1,\"status\":\"PLACED\",\"version\":0}"
                        .formatted(id)));

        // The same event id again, even with content that the version check alone would apply.
        this.listener.on(record(
                id,
                eventId,
                "{\"id\":%d,\"customer\":\"dan\",\"product\":\"desk\",\"quantity\":9,\"status\":\"PLACED\",\"version\":5}"
                        .formatted(id)));

        OrderView view = this.views.findById(id).orElseThrow();
        assertThat(view.version()).isZero();
    }

    private static ConsumerRecord<String, String> record(long orderId, UUID eventId, String json) {
        ConsumerRecord<String, String> record = new ConsumerRecord<>(ORDERS_TOPIC, 0, 0, String.valueOf(orderId), json);
        record.headers().add(OutboxHeaders.EVENT_ID, eventId.toString().getBytes(StandardCharsets.UTF_8));
        return record;
    }
}
