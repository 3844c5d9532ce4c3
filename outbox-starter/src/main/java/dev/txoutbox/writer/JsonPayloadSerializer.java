package dev.txoutbox.writer;

import dev.txoutbox.OutboxPayloadSerializer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import tools.jackson.databind.json.JsonMapper;

/** Serializes a String as UTF-8 and other payloads to JSON with the application's Jackson mapper. */
final class JsonPayloadSerializer implements OutboxPayloadSerializer {

    private final JsonMapper mapper;

    JsonPayloadSerializer(JsonMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public byte[] serialize(String topic, Headers headers, Object payload) {
        if (payload instanceof String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        return this.mapper.writeValueAsBytes(payload);
    }

    @Override
    public String toString() {
        return "the JSON serializer";
    }
}
