package dev.txoutbox.test;

import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;

/**
 * Tells {@link WrittenEvents} what the relay sent, since the relay deletes the rows of published events: a test that
 * commits still sees what it wrote after the relay has been quicker than its assertions. It hears of each record when
 * the broker acknowledged it, before the delete of its row commits, so that an empty outbox table (what
 * {@link OutboxDrain} waits for) means that WrittenEvents knows every event that was in it.
 */
final class PublishedRecords implements OutboxRelayListener {

    private final WrittenEvents events;

    PublishedRecords(WrittenEvents events) {
        this.events = events;
    }

    @Override
    public void sent(OutboxRecord record, Instant acknowledgedAt) {
        this.events.sent(record);
    }
}
