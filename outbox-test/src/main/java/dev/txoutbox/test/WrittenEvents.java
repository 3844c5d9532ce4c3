package dev.txoutbox.test;

import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxRow;
import dev.txoutbox.store.OutboxStore;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Predicate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The events written to the outbox since the current test began (or since {@link #clear()}), oldest first: the rows
 * of the outbox table as the caller's transaction sees them, and the events the relay has published since. Read
 * inside a test's transaction, they include what that transaction wrote and has not committed (a
 * {@code @Transactional} test that rolls back, an assertion inside a {@code TransactionTemplate}); outside one, what
 * committed. Events of a transaction that rolled back are not there, as they never reach Kafka.
 *
 * <p>Kafka plays no part: with the relay off ({@code outbox.relay.enabled=false}, or any slice test) the rows stay in
 * the table; with the relay on, the events it published are remembered, since it deletes their rows. A test
 * execution listener clears it before each test method.
 *
 * <pre class="code">
 * assertThat(writtenEvents.single("orders")).hasKey("42").payload(OrderPlaced.class).isEqualTo(expected);
 * assertThat(writtenEvents.ofTopic("orders")).extracting(WrittenEvent::type).containsExactly("OrderPlaced");
 * </pre>
 */
public final class WrittenEvents {

    /** The most rows one read takes from the outbox table; a test that writes more sees the oldest ones. */
    static final int MOST_ROWS = 10_000;

    private final OutboxStore store;

    private final JsonMapper json;

    /** Rows with a greater id were written after the last clear. */
    private volatile long clearedUpTo;

    /** The events the relay published since the last clear, by row id. */
    private final ConcurrentSkipListMap<Long, WrittenEvent> published = new ConcurrentSkipListMap<>();

    WrittenEvents(OutboxStore store, JsonMapper json) {
        this.store = store;
        this.json = json;
    }

    /** All events written since the test began or the last {@link #clear()}, in the order they were written. */
    public List<WrittenEvent> all() {
        Map<Long, WrittenEvent> events = new TreeMap<>();
        long after = this.clearedUpTo;
        this.published.tailMap(after, false).forEach(events::put);
        for (OutboxRow row : this.store.rows(after, MOST_ROWS)) {
            events.putIfAbsent(row.id(), WrittenEvent.of(row, this.json));
        }
        return List.copyOf(events.values());
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

    /** Forgets the events written so far: later calls show only events written after this one. */
    public void clear() {
        long highest = Math.max(this.clearedUpTo, this.store.highestId());
        Long lastPublished = this.published.isEmpty() ? null : this.published.lastKey();
        this.clearedUpTo = Math.max(highest, Objects.requireNonNullElse(lastPublished, 0L));
        this.published.clear();
    }

    /** Remembers an event the relay published, whose row it is about to delete. */
    void published(OutboxRecord record) {
        if (record.id() > this.clearedUpTo) {
            this.published.put(record.id(), WrittenEvent.of(record, this.json));
        }
    }

    @Override
    public String toString() {
        return "WrittenEvents" + all();
    }
}
