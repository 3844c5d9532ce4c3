package dev.txoutbox.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxPayloadSerializer;
import java.net.ConnectException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** How an event's value and key are serialized when it is written. */
class EventSerializerTests {

    private static final String ORIGIN = "OrderService.place(..)";

    @Test
    void theValueSerializerSeesTheTopicAndTheHeadersAndTheHeadersItAddsAreKept() {
        OutboxPayloadSerializer tagging = (topic, headers, payload) -> {
            headers.add("schema-subject", (topic + "-value\tgrüß").getBytes(StandardCharsets.UTF_8));
            return ("v1:" + payload + ":"
                            + new String(headers.lastHeader("tenant").value(), StandardCharsets.UTF_8))
                    .getBytes(StandardCharsets.UTF_8);
        };

        EventSerializer.Serialized serialized = new EventSerializer(tagging, null)
                .serialize("order-1", "o-1", Map.of("tenant", "acme"), ORIGIN, "orders", "OrderPlaced");

        assertThat(new String(serialized.value(), StandardCharsets.UTF_8)).isEqualTo("v1:order-1:acme");
        assertThat(serialized.headers())
                .containsExactlyInAnyOrderEntriesOf(Map.of("tenant", "acme", "schema-subject", "orders-value\tgrüß"));
    }

    @Test
    void aHeaderThatIsNotTextFailsTheWriteNamingTheHeaderAndTheSettingThatPutsTheIdInTheValue() {
        OutboxPayloadSerializer binaryIds = (topic, headers, payload) -> {
            headers.add(
                    "apicurio.value.globalId",
                    ByteBuffer.allocate(8).putLong(-1L).array());
            return new byte[] {1};
        };

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> new EventSerializer(binaryIds, null)
                        .serialize("order-1", "o-1", Map.of(), ORIGIN, "orders", "OrderPlaced"))
                .withMessageContaining(ORIGIN)
                .withMessageContaining("header 'apicurio.value.globalId'")
                .withMessageContaining("event OrderPlaced to topic 'orders'")
                .withMessageContaining("outbox.serialization.properties.apicurio.registry.headers.enabled=false");
    }

    @Test
    void aValueTheSerializerRefusesFailsTheWriteWithTheEventTheTopicAndTheSerializersOwnMessage() {
        OutboxPayloadSerializer registry = OutboxPayloadSerializer.of(new RefusingSerializer());

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> new EventSerializer(registry, null)
                        .serialize("order-1", "o-1", Map.of(), ORIGIN, "orders", "OrderPlaced"))
                .withMessageContaining(ORIGIN)
                .withMessageContaining("event OrderPlaced to topic 'orders'")
                .withMessageContaining(RefusingSerializer.class.getName())
                .withMessageContaining("Incompatible schema for orders-value under rule BACKWARD")
                .withMessageContaining("compatibility rule")
                .withMessageContaining("rolled back");
    }

    @Test
    void aRegistryThatCannotBeReachedFailsTheWriteSayingSoAndWhereItsAddressIsSet() {
        OutboxPayloadSerializer unreachable = (topic, headers, payload) -> {
            throw new IllegalStateException(
                    "registry request failed", new ConnectException("Connection refused: localhost/127.0.0.1:8081"));
        };

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> new EventSerializer(unreachable, null)
                        .serialize("order-1", "o-1", Map.of(), ORIGIN, "orders", "OrderPlaced"))
                .withMessageContaining("event OrderPlaced to topic 'orders'")
                .withMessageContaining("could not reach what it calls, such as its schema registry")
                .withMessageContaining("Connection refused: localhost/127.0.0.1:8081")
                .withMessageContaining("outbox.serialization.properties.*")
                .withMessageNotContaining("compatibility rule");
    }

    @Test
    void aSerializerHeaderThatWouldShadowTheEventsOwnOrTheOutboxsFailsTheWrite() {
        OutboxPayloadSerializer shadowing = (topic, headers, payload) -> {
            headers.add(
                    topic.equals("orders") ? "tenant" : "outbox-event-type", "other".getBytes(StandardCharsets.UTF_8));
            return new byte[] {1};
        };
        EventSerializer serializer = new EventSerializer(shadowing, null);

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> serializer.serialize(
                        "order-1", "o-1", Map.of("tenant", "acme"), ORIGIN, "orders", "OrderPlaced"))
                .withMessageContaining(
                        "set header 'tenant' of event OrderPlaced to topic 'orders', which the event" + " has already");
        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> serializer.serialize("order-1", "o-1", Map.of(), ORIGIN, "payments", "OrderPlaced"))
                .withMessageContaining("set header 'outbox-event-type'")
                .withMessageContaining("the relay sets itself");
    }

    @Test
    void aKeyTheRelaysKeySerializerWouldRefuseFailsTheWriteAlready() {
        EventSerializer serializer = new EventSerializer(
                new JsonPayloadSerializer(JsonMapper.builder().build()), new RefusingSerializer());

        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> serializer.serialize("order-1", "o-1", Map.of(), ORIGIN, "orders", "OrderPlaced"))
                .withMessageContaining("the key 'o-1' of event OrderPlaced to topic 'orders'")
                .withMessageContaining("outbox.serialization.key-serializer")
                .withMessageContaining("Incompatible schema");
    }

    @Test
    void byteArraysAreTheValueAsTheyAreAndTheDefaultSendsTextAsUtf8() {
        OutboxPayloadSerializer refusing = OutboxPayloadSerializer.of(new RefusingSerializer());
        byte[] bytes = {0, 1, 2};

        assertThat(new EventSerializer(refusing, null)
                        .serialize(bytes, null, Map.of(), ORIGIN, "orders", "Raw")
                        .value())
                .isSameAs(bytes);
        assertThat(new EventSerializer(
                                new JsonPayloadSerializer(JsonMapper.builder().build()), null)
                        .serialize("grüß", null, Map.of(), ORIGIN, "orders", "Text")
                        .value())
                .isEqualTo("grüß".getBytes(StandardCharsets.UTF_8));
    }

    /** A serializer whose registry refuses the schema, as a registry's serializer reports it. */
    static final class RefusingSerializer implements Serializer<Object> {

        @Override
        public byte[] serialize(String topic, Object data) {
            return serialize(topic, null, data);
        }

        @Override
        public byte[] serialize(String topic, Headers headers, Object data) {
            throw new SerializationException(
                    "Error serializing",
                    new IllegalStateException("Incompatible schema for " + topic + "-value under rule BACKWARD"));
        }
    }
}
