package dev.txoutbox.testing;

/**
 * The names of the headers on every record published from the outbox, written out for this module's tests: the
 * publisher's own constants are package-private, and the public ones ({@code dev.txoutbox.OutboxHeaders}) live in the
 * starter. Spelled out here, they also pin the names that consumers depend on.
 */
public final class OutboxHeaders {

    public static final String EVENT_ID = "outbox-event-id";

    public static final String EVENT_TYPE = "outbox-event-type";

    private OutboxHeaders() {}
}
