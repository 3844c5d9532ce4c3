package dev.txoutbox.writer;

import dev.txoutbox.OutboxPayloadSerializer;
import tools.jackson.databind.json.JsonMapper;

/** Serializes payloads to JSON with the application's Jackson mapper. */
final class JsonPayloadSerializer implements OutboxPayloadSerializer {

    private final JsonMapper mapper;

    JsonPayloadSerializer(JsonMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public byte[] serialize(Object payload) {
        return this.mapper.writeValueAsBytes(payload);
    }
}
