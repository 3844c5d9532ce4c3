package dev.txoutbox.relay.kafka;

/** The Kafka headers that every record published from the outbox carries; values are UTF-8 text. */
public final class OutboxHeaders {

    /** The event's unique id (a UUID): the same on every delivery of one event, for de-duplication. */
    public static final String EVENT_ID = "outbox-event-id";

    /** The event's type, by default the simple class name of the payload. */
    public static final String EVENT_TYPE = "outbox-event-type";

    private OutboxHeaders() {}
}
