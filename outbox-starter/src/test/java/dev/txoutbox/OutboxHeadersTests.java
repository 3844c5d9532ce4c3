package dev.txoutbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Reading the event id of a consumed record. */
class OutboxHeadersTests {

    @Test
    void theEventIdIsReadFromTheLastEventIdHeader() {
        UUID eventId = UUID.randomUUID();
        ConsumerRecord<String, String> record = record();
        record.headers().add(OutboxHeaders.EVENT_ID, "stale".getBytes(StandardCharsets.UTF_8));
        record.headers().add(OutboxHeaders.EVENT_ID, eventId.toString().getBytes(StandardCharsets.UTF_8));

        assertThat(OutboxHeaders.eventId(record)).isEqualTo(eventId);
    }

    @Test
    void aRecordWithoutTheHeaderIsRefusedNamingTheRecordAndTheHeader() {
        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> OutboxHeaders.eventId(record()))
                .withMessageContaining("orders-2@17")
                .withMessageContaining("has no outbox-event-id header")
                .withMessageContaining("not published from an outbox");
    }

    @Test
    void aHeaderThatIsNotAUuidIsRefusedQuotingItsValue() {
        ConsumerRecord<String, String> record = record();
        record.headers().add(OutboxHeaders.EVENT_ID, "order-42".getBytes(StandardCharsets.UTF_8));

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> OutboxHeaders.eventId(record))
                .withMessageContaining("orders-2@17")
                .withMessageContaining("outbox-event-id header that is not a UUID: 'order-42'")
                .withCauseInstanceOf(IllegalArgumentException.class);
    }

    private static ConsumerRecord<String, String> record() {
        return new ConsumerRecord<>("orders", 2, 17, "k", "v");
    }
}
