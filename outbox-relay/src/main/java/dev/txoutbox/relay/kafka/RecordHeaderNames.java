package dev.txoutbox.relay.kafka;

import dev.txoutbox.internal.EventRules;

/**
 * The names of the Kafka headers that the publisher adds to every record from the outbox; values are UTF-8 text.
 * Their names come from {@link EventRules}, whose record size counts them; users read them from {@code
 * dev.txoutbox.OutboxHeaders} in the starter, which this module cannot see: a test there shows that the two agree.
 */
final class RecordHeaderNames {

    /** The event's unique id (a UUID): the same on every delivery of one event, for de-duplication. */
    static final String EVENT_ID = EventRules.EVENT_ID_HEADER;

    /** The event's type, by default the simple class name of the payload. */
    static final String EVENT_TYPE = EventRules.EVENT_TYPE_HEADER;

    private RecordHeaderNames() {}
}
