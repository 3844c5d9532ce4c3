package dev.txoutbox.test;

import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;

/**
 * Tells {@link WrittenEvents} what the relay published, since the relay deletes the rows of published events: a test
 * that commits still sees what it wrote after the relay has been quicker than its assertions.
 */
final class PublishedRecords implements OutboxRelayListener {

    private final WrittenEvents events;

    PublishedRecords(WrittenEvents events) {
        this.events = events;
    }

    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        this.events.published(record);
    }
}
