package dev.txoutbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules both writers check events against, and the messages that name the writer and what to do. */
class EventRulesTests {

    private static final String ORIGIN = "OrderService.placeOrder(..)";

    @Test
    void aValidEventHasNoViolation() {
        assertThat(EventRules.violation(ORIGIN, "orders", "order-1", false, List.of("traceparent")))
                .isNull();
        assertThat(EventRules.violation(ORIGIN, "orders", "order-1", true, List.of()))
                .as("a tombstone with a key")
                .isNull();
        assertThat(EventRules.violation(ORIGIN, "orders", null, false, List.of()))
                .as("an event without a key")
                .isNull();
    }

    @Test
    void eachViolationIsASentenceAboutTheWriterThatSaysWhatToDo() {
        assertThat(EventRules.violation(ORIGIN, " ", "order-1", false, List.of()))
                .isEqualTo("OrderService.placeOrder(..) has a blank topic: name the Kafka topic the event goes to.");
        assertThat(EventRules.violation(ORIGIN, "orders", null, true, List.of()))
                .isEqualTo("OrderService.placeOrder(..) would write a tombstone (null payload) to topic 'orders'"
                        + " without a key: a tombstone deletes the value of its key, so give the event a key, or a"
                        + " payload.");
        assertThat(EventRules.violation(ORIGIN, "orders", "order-1", false, List.of("source", "outbox-event-type")))
                .isEqualTo("OrderService.placeOrder(..) sets the header 'outbox-event-type' on its event to topic"
                        + " 'orders', but header names that start with 'outbox-' belong to the outbox (the event id"
                        + " and type, which consumers de-duplicate on). Rename the header.");
    }

    @Test
    void aRecordsSizeCountsPayloadKeyHeadersTheOutboxsOwnHeadersAndKafkasFraming() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("source", "shop");

        long size = EventRules.recordSize(new byte[100], "order-1", "OrderPlaced", headers);

        long outboxHeaders = (10 + "outbox-event-id".length() + 36) + (10 + "outbox-event-type".length() + 11);
        assertThat(size).isEqualTo(128 + 100 + 7 + outboxHeaders + (10 + 6 + 4));
        assertThat(EventRules.recordSize(null, "é", "E", Map.of()))
                .as("a tombstone, and a key counted in UTF-8 bytes")
                .isEqualTo(128 + 2 + (10 + 15 + 36) + (10 + 17 + 1));
    }
}
