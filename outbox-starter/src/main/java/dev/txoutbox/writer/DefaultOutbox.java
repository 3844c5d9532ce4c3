package dev.txoutbox.writer;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxMessage;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** The {@link Outbox} facade over an {@link OutboxWriter}. */
final class DefaultOutbox implements Outbox {

    private final OutboxWriter writer;

    DefaultOutbox(OutboxWriter writer) {
        this.writer = writer;
    }

    @Override
    public UUID write(String topic, @Nullable String key, @Nullable Object payload) {
        return write(OutboxMessage.to(topic).key(key).payload(payload).build());
    }

    @Override
    public UUID write(OutboxMessage message) {
        return this.writer.write(message, "Outbox.write(topic '%s')".formatted(message.topic()));
    }
}
