package dev.txoutbox.relay.kafka;

/**
 * The names of the Kafka headers that the publisher adds to every record from the outbox; values are UTF-8 text.
 * Users read them from {@code dev.txoutbox.OutboxHeaders} in the starter, which this module cannot see: a test there
 * shows that the two agree.
 */
final class RecordHeaderNames {

    /** The event's unique id (a UUID): the same on every delivery of one event, for de-duplication. */
    static final String EVENT_ID = "outbox-event-id";

    /** The event's type, by default the simple class name of the payload. */
    static final String EVENT_TYPE = "outbox-event-type";

    private RecordHeaderNames() {}
}
