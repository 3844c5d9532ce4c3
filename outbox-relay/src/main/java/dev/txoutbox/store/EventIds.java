package dev.txoutbox.store;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Makes event ids: version 7 UUIDs (RFC 9562), whose first 48 bits are the Unix time in milliseconds. Ids made later
 * sort later, so the unique index on the outbox's {@code event_id}, and the processed-events table of a consumer that
 * de-duplicates, grow at their end instead of taking each insert at a random page of an index as large as the table.
 *
 * <p>Within one JVM every id is greater than the one before, also within one millisecond: the 12 bits after the
 * version count the ids of a millisecond from zero (RFC 9562's "fixed bit-length dedicated counter"), and a
 * millisecond whose 4,096 ids are spent lends its ids from the next one, so that the order holds, also when the clock
 * steps back. The last 62 bits are random, from {@link UUID#randomUUID()}, so that ids of several JVMs practically
 * never collide: two ids collide only if they were made in the same millisecond with the same count and the same 62
 * random bits.
 */
public final class EventIds {

    // The counter starts at zero in every millisecond rather than at a random value (RFC 9562, section 6.2): the 62
    // random bits already make a collision between JVMs negligible, and a random start would leave a millisecond
    // fewer ids before the generator lends from the next one and runs ahead of the clock.

    private static final EventIds JVM = new EventIds(System::currentTimeMillis);

    private static final int COUNTER_BITS = 12;

    private static final long COUNTER_MASK = (1L << COUNTER_BITS) - 1;

    private final LongSupplier clock;

    /** The last id's time in milliseconds and counter, as {@code millis << 12 | counter}. */
    private final AtomicLong last = new AtomicLong();

    /**
     * A generator of its own, on the given clock, for tests; the application's ids come from {@link #next()}.
     *
     * @param clock the Unix time in milliseconds
     */
    EventIds(LongSupplier clock) {
        this.clock = clock;
    }

    /** A new event id: a version 7 UUID, greater than every id this JVM made before. */
    public static UUID next() {
        return JVM.nextId();
    }

    /** A new id of this generator, greater than every id it made before. */
    UUID nextId() {
        long now = this.clock.getAsLong() << COUNTER_BITS;
        long timeAndCounter = this.last.updateAndGet(previous -> Math.max(previous + 1, now));
        long mostSignificant = ((timeAndCounter >>> COUNTER_BITS) << 16) | 0x7000L | (timeAndCounter & COUNTER_MASK);
        return new UUID(mostSignificant, UUID.randomUUID().getLeastSignificantBits());
    }
}
