package dev.txoutbox.store;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes event ids: version 7 UUIDs (RFC 9562), whose first 48 bits are the Unix time in milliseconds. Ids made later
 * sort later, so the unique index on the outbox's {@code event_id}, and the processed-events table of a consumer that
 * de-duplicates, grow at their end instead of taking each insert at a random page of an index as large as the table.
 *
 * <p>Within one JVM every id is greater than the one before, also within one millisecond: the 12 bits after the
 * version count the ids of a millisecond (RFC 9562's "fixed bit-length dedicated counter"), and a millisecond whose
 * counter runs out lends its ids from the next one, so that the order holds even when the clock steps back. The last
 * 62 bits are random, from {@link UUID#randomUUID()}, so that ids of several JVMs never collide.
 */
public final class EventIds {

    /** The last id's time in milliseconds and counter, as {@code millis << 12 | counter}. */
    private static final AtomicLong last = new AtomicLong();

    private EventIds() {}

    /** A new event id: a version 7 UUID, greater than every id this JVM made before. */
    public static UUID next() {
        long now = System.currentTimeMillis() << 12;
        long timeAndCounter = last.updateAndGet(previous -> Math.max(previous + 1, now));
        long mostSignificant = ((timeAndCounter >>> 12) << 16) | 0x7000L | (timeAndCounter & 0x0FFFL);
        return new UUID(mostSignificant, UUID.randomUUID().getLeastSignificantBits());
    }
}
