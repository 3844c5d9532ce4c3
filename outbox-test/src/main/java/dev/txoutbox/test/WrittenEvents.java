package dev.txoutbox.test;

import dev.txoutbox.store.EventIds;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxRow;
import dev.txoutbox.store.OutboxStore;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

/**
 * The events written to the outbox since the current test began (or since {@link #clear()}), oldest first: the rows
 * of the outbox table as the caller's transaction sees them, and the events the relay has published since. Read
 * inside a test's transaction, they include what that transaction wrote and has not committed (a
 * {@code @Transactional} test that rolls back, an assertion inside a {@code TransactionTemplate}); outside one, what
 * committed. Events of a transaction that rolled back are not there, as they never reach Kafka.
 *
 * <p>Kafka plays no part: with the relay off ({@code outbox.relay.enabled=false}, or any slice test) the rows stay in
 * the table; with the relay on, the events it sent are remembered, since it deletes their rows. A test execution
 * listener clears it before each test method. What was written before a clear is told apart by the event id, which
 * the writer makes in time order, not by the table's row id, so that a clean-up that truncates the table and starts
 * its ids again ({@code TRUNCATE ... RESTART IDENTITY}, any {@code TRUNCATE} on MariaDB and MySQL) hides nothing.
 *
 * <pre class="code">
 * assertThat(writtenEvents.single("orders")).hasKey("42").payload(OrderPlaced.class).isEqualTo(expected);
 * assertThat(writtenEvents.ofTopic("orders")).extracting(WrittenEvent::type).containsExactly("OrderPlaced");
 * </pre>
 */
public final class WrittenEvents {

    /** The most rows one read takes from the outbox table; a test that writes more sees the oldest ones. */
    static final int MOST_ROWS = 10_000;

    /** The version of the event ids the writer makes, which sort by when they were made. */
    private static final int TIME_ORDERED = 7;

    private final OutboxStore store;

    private final JsonMapper json;

    /**
     * An event id made at the last clear: every event id this JVM makes later is greater (see {@link EventIds}), so
     * that a time-ordered id up to this one belongs to an event written before the clear.
     */
    private volatile UUID clearedAt = new UUID(0, 0);

    /**
     * The table's last row at the last clear, when it had one: while that row is still there with its event id, the
     * ids did not start again and the rows up to it need not be read; once it is gone (the relay published it, or a
     * clean-up deleted or truncated the table), the whole table is read.
     */
    private volatile @Nullable RowMark lastRowAtClear;

    /** The events the relay sent since the last clear, by event id. */
    private final Map<UUID, WrittenEvent> sent = new LinkedHashMap<>();

    WrittenEvents(OutboxStore store, JsonMapper json) {
        this.store = store;
        this.json = json;
    }

    /** All events written since the test began or the last {@link #clear()}, in the order they were written. */
    public List<WrittenEvent> all() {
        // The table first, then what was sent: a row deleted after the read was sent, and is heard of, before.
        Map<UUID, WrittenEvent> events = new HashMap<>();
        for (OutboxRow row : this.store.rows(readAfter(), MOST_ROWS)) {
            if (writtenSinceClear(row.eventId())) {
                events.put(row.eventId(), WrittenEvent.of(row, this.json));
            }
        }
        synchronized (this) {
            this.sent.forEach(events::putIfAbsent);
        }
        return events.values().stream()
                .sorted(Comparator.comparingLong(WrittenEvent::id))
                .toList();
    }

    /** The events written to a topic, in the order they were written. */
    public List<WrittenEvent> ofTopic(String topic) {
        return matching(event -> event.topic().equals(topic));
    }

    /** The events of a type (the {@code outbox-event-type} header), in the order they were written. */
    public List<WrittenEvent> ofType(String type) {
        return matching(event -> event.type().equals(type));
    }

    /** The events of a topic and key, in the order they are published. */
    public List<WrittenEvent> ofKey(String topic, String key) {
        return matching(event -> event.topic().equals(topic) && key.equals(event.key()));
    }

    /** The events that match a condition, in the order they were written. */
    public List<WrittenEvent> matching(Predicate<WrittenEvent> condition) {
        return all().stream().filter(condition).toList();
    }

    /**
     * The one event written to a topic.
     *
     * @throws AssertionError when the topic got no event or several, listing all events written
     */
    public WrittenEvent single(String topic) {
        List<WrittenEvent> all = all();
        List<WrittenEvent> ofTopic =
                all.stream().filter(event -> event.topic().equals(topic)).toList();
        if (ofTopic.size() != 1) {
            throw new AssertionError("Expected one event written to topic '%s' but found %d. All events written: %s"
                    .formatted(topic, ofTopic.size(), all.isEmpty() ? "none" : all));
        }
        return ofTopic.get(0);
    }

    /**
     * Forgets the events written so far: later calls show only events written after this one, also when the outbox
     * table is truncated and its ids start again.
     */
    public void clear() {
        UUID now = EventIds.next();
        long highestId = this.store.highestId();
        List<OutboxRow> last = (highestId > 0) ? this.store.rows(highestId - 1, 1) : List.of();
        synchronized (this) {
            this.clearedAt = now;
            this.lastRowAtClear = last.isEmpty()
                    ? null
                    : new RowMark(last.get(0).id(), last.get(0).eventId());
            this.sent.clear();
        }
    }

    /** Remembers an event the relay sent, whose row it is about to delete. */
    synchronized void sent(OutboxRecord record) {
        if (writtenSinceClear(record.eventId())) {
            this.sent.put(record.eventId(), WrittenEvent.of(record, this.json));
        }
    }

    /** Whether an event was written after the last clear, told by its time-ordered event id. */
    private boolean writtenSinceClear(UUID eventId) {
        UUID cleared = this.clearedAt;
        if (eventId.version() != TIME_ORDERED || cleared.version() != TIME_ORDERED) {
            // Not made by the writer (a row inserted by hand), or no clear yet: only the row ids tell.
            return true;
        }
        // Made by this JVM's generator: the most significant bits hold the time and a count, and grow with each id.
        return eventId.getMostSignificantBits() > cleared.getMostSignificantBits();
    }

    /** The row id after which rows may be new: the last row at the clear while it is still there, otherwise none. */
    private long readAfter() {
        RowMark mark = this.lastRowAtClear;
        if (mark == null) {
            return 0;
        }
        List<OutboxRow> row = this.store.rows(mark.id() - 1, 1);
        boolean stillThere = !row.isEmpty()
                && row.get(0).id() == mark.id()
                && row.get(0).eventId().equals(mark.eventId());
        return stillThere ? mark.id() : 0;
    }

    /** A row of the outbox table, known by its id and its event id. */
    private record RowMark(long id, UUID eventId) {}

    @Override
    public String toString() {
        return "WrittenEvents" + all();
    }
}
