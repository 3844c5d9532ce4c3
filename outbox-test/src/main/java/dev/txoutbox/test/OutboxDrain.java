package dev.txoutbox.test;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxRow;
import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * "Drain now" for tests with a real Kafka broker: waits until the relay has published every committed row of the
 * outbox. A row is deleted only once Kafka acknowledged its record, so an empty outbox means that every event written
 * so far is on its topic. The relay is woken up rather than left to its poll interval.
 *
 * <pre class="code">
 * orderService.placeOrder(command);
 * outboxDrain.awaitDrained();
 * // every record is on its topic now: read it with a consumer
 * </pre>
 *
 * <p>When the outbox does not empty in time, the {@link AssertionError} says what is left: rows per topic, the oldest
 * row with its attempts and last error, and the dead letters. Events that become dead letters while it waits fail it
 * too: they will not be published.
 */
public final class OutboxDrain {

    /** How long {@link #awaitDrained()} waits. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** How often the outbox is looked at while waiting. */
    private static final Duration LOOK_EVERY = Duration.ofMillis(25);

    /** How many dead letters the failure message lists. */
    private static final int SHOWN_DEAD_LETTERS = 5;

    private final OutboxStore store;

    private final ObjectProvider<DeadLetters> deadLetters;

    private final ObjectProvider<OutboxRelay> relays;

    OutboxDrain(OutboxStore store, ObjectProvider<DeadLetters> deadLetters, ObjectProvider<OutboxRelay> relays) {
        this.store = store;
        this.deadLetters = deadLetters;
        this.relays = relays;
    }

    /**
     * Waits up to {@link #DEFAULT_TIMEOUT} until the relay has published every committed row of the outbox.
     *
     * @throws AssertionError when rows are left after that time, or events became dead letters meanwhile
     * @throws IllegalStateException when no relay runs in this application context, or when called inside a
     *     transaction
     */
    public void awaitDrained() {
        awaitDrained(DEFAULT_TIMEOUT);
    }

    /**
     * Waits until the relay has published every committed row of the outbox.
     *
     * @param timeout how long to wait at most
     * @throws AssertionError when rows are left after that time, or events became dead letters meanwhile
     * @throws IllegalStateException when no relay runs in this application context, or when called inside a
     *     transaction
     */
    public void awaitDrained(Duration timeout) {
        if (TransactionSynchronizationManager.isActualTransactionActive()) {
            // The count below would read in this transaction, and see its uncommitted rows until the timeout.
            throw new IllegalStateException(("OutboxDrain.awaitDrained() was called inside a transaction (a"
                            + " @Transactional test, or a TransactionTemplate): the events written in it are not"
                            + " committed, so no relay can publish them, and the outbox table '%s' cannot empty"
                            + " before that transaction ends. Remove @Transactional from the test class or method (and"
                            + " clean up in @AfterEach instead), or call awaitDrained() after the transaction"
                            + " committed; to assert what was written without publishing it, use WrittenEvents.")
                    .formatted(this.store.table()));
        }
        List<OutboxRelay> running =
                this.relays.orderedStream().filter(OutboxRelay::isRunning).toList();
        if (running.isEmpty()) {
            throw new IllegalStateException(("No outbox relay runs in this application context, so nothing publishes"
                            + " the %d rows of outbox table '%s' (outbox.relay.enabled=false, a slice test, or an"
                            + " application without Kafka). Assert what was written with WrittenEvents, which needs no"
                            + " relay; to drain, run the test with the relay on and a Kafka broker (@EmbeddedKafka, or a"
                            + " Kafka container with @ServiceConnection).")
                    .formatted(this.store.count(), this.store.table()));
        }
        long deadLettersBefore = deadLetterCount();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            running.forEach(OutboxRelay::wakeUp);
            boolean empty = this.store.count() == 0;
            long newDeadLetters = deadLetterCount() - deadLettersBefore;
            if (newDeadLetters > 0) {
                throw new AssertionError("%d events became dead letters while the outbox was drained: the relay gave"
                                .formatted(newDeadLetters)
                        + " up on them, and they will not be published. " + describe(timeout));
            }
            if (empty) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("The outbox was not drained within " + timeout + ". " + describe(timeout));
            }
            sleep();
        }
    }

    private long deadLetterCount() {
        DeadLetters letters = this.deadLetters.getIfAvailable();
        return (letters != null) ? letters.count() : 0;
    }

    /** What the outbox holds: rows per topic, the oldest row, the relay's lag and the dead letters. */
    private String describe(Duration timeout) {
        List<OutboxRow> rows = this.store.rows(0, WrittenEvents.MOST_ROWS);
        StringBuilder text = new StringBuilder();
        if (rows.isEmpty()) {
            text.append("Outbox table '%s' is empty.".formatted(this.store.table()));
        } else {
            Map<String, Long> perTopic =
                    rows.stream().collect(Collectors.groupingBy(OutboxRow::topic, TreeMap::new, Collectors.counting()));
            OutboxStatistics statistics = this.store.statistics();
            text.append("Outbox table '%s' holds %s%d %s: %s. The oldest: %s."
                    .formatted(
                            this.store.table(),
                            rows.size() == WrittenEvents.MOST_ROWS ? "at least " : "",
                            rows.size(),
                            rows.size() == 1 ? "row" : "rows",
                            perTopic.entrySet().stream()
                                    .map(topic -> "%d of topic '%s'".formatted(topic.getValue(), topic.getKey()))
                                    .collect(Collectors.joining(", ")),
                            rows.get(0)));
            text.append(
                    statistics.oldestCreatedAt() == null
                            ? " No row can be published now: they wait for a retry, or behind a dead letter of their key."
                            : " The oldest row the relay could publish now has waited %s.".formatted(statistics.lag()));
        }
        DeadLetters letters = this.deadLetters.getIfAvailable();
        if (letters != null) {
            long count = letters.count();
            List<DeadLetter> shown = letters.list(SHOWN_DEAD_LETTERS);
            text.append(
                    count == 0
                            ? " No dead letters."
                            : " %d dead letters (the oldest %d: %s).".formatted(count, shown.size(), shown));
        }
        if (!rows.isEmpty()) {
            text.append(" A row that fails with a reason such as an unknown topic waits for a retry: create the"
                    + " topic, or look at the relay's log; or wait longer than %s.".formatted(timeout));
        }
        return text.toString();
    }

    private static void sleep() {
        try {
            TimeUnit.NANOSECONDS.sleep(LOOK_EVERY.toNanos());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while waiting for the outbox to be drained", ex);
        }
    }

    @Override
    public String toString() {
        return "OutboxDrain[table=" + this.store.table() + "]";
    }
}
