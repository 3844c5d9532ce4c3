package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} actuator endpoint. {@code GET} shows the waiting rows and a page of dead letters ({@code after}
 * an id, at most {@code limit} of them). {@code POST /{id}} requeues a dead letter and {@code DELETE /{id}} discards
 * one; {@code POST} and {@code DELETE} without an id do the same to the dead letters of a {@code topic}, of a
 * {@code key}, of both, or, with {@code all=true} only, to all of them. Its default access is read-only: the writes
 * need {@code management.endpoint.outbox.access=unrestricted}. Every write is logged at INFO with what
 * it touched.
 */
@Endpoint(id = "outbox", defaultAccess = Access.READ_ONLY)
public class OutboxEndpoint {

    private static final Logger log = LoggerFactory.getLogger(OutboxEndpoint.class);

    /** Dead letters on a page when the request does not say. */
    static final int DEFAULT_LIMIT = 100;

    /** The most dead letters on one page. */
    static final int MAX_LIMIT = 1000;

    private final OutboxStore store;

    private final DeadLetters deadLetters;

    private final ObjectProvider<OutboxRelay> relays;

    OutboxEndpoint(OutboxStore store, DeadLetters deadLetters, ObjectProvider<OutboxRelay> relays) {
        this.store = store;
        this.deadLetters = deadLetters;
        this.relays = relays;
    }

    /**
     * The outbox's state: rows waiting, and a page of dead letters, oldest event first.
     *
     * @param after only dead letters with a greater id: the {@code nextAfter} of the previous page; none for the
     *     first page
     * @param limit how many dead letters at most, 100 when not given, at most 1000
     */
    @ReadOperation
    public OutboxDescriptor outbox(@Nullable Long after, @Nullable Integer limit) {
        int pageSize = limit != null ? limit : DEFAULT_LIMIT;
        if (pageSize < 1 || pageSize > MAX_LIMIT) {
            throw new InvalidEndpointRequestException(
                    "limit=%d is out of range: give 1 to %d dead letters per page".formatted(pageSize, MAX_LIMIT),
                    "limit out of range");
        }
        List<DeadLetter> page = this.deadLetters.list(after != null ? after : 0L, pageSize);
        Long nextAfter = page.size() == pageSize ? page.get(page.size() - 1).id() : null;
        return new OutboxDescriptor(
                this.store.table().value(), this.store.count(), this.deadLetters.count(), page, nextAfter);
    }

    /** Moves a dead letter back into the outbox; its key is released. */
    @WriteOperation
    public DeadLetterAction requeue(@Selector long id) {
        boolean done = this.deadLetters.requeue(id);
        log.info(
                "Outbox: the actuator endpoint was asked to requeue dead letter {}: {}",
                id,
                done ? "requeued" : "not found");
        if (done) {
            wakeUpRelays();
        }
        return new DeadLetterAction(id, done ? "requeued" : "not found");
    }

    /** Deletes a dead letter for good; its key is released. */
    @DeleteOperation
    public DeadLetterAction discard(@Selector long id) {
        boolean done = this.deadLetters.discard(id);
        log.info(
                "Outbox: the actuator endpoint was asked to discard dead letter {}: {}",
                id,
                done ? "discarded" : "not found");
        return new DeadLetterAction(id, done ? "discarded" : "not found");
    }

    /**
     * Moves the dead letters of a topic, a key, or both back into the outbox, or all of them with {@code all=true};
     * their keys are released.
     */
    @WriteOperation
    public DeadLettersAction requeueMatching(@Nullable String topic, @Nullable String key, @Nullable Boolean all) {
        Selection selection = Selection.of(topic, key, all, "requeue");
        int count = this.deadLetters.requeue(selection.topic(), selection.key());
        log.info("Outbox: the actuator endpoint was asked to requeue {}: {} requeued", selection, count);
        if (count > 0) {
            wakeUpRelays();
        }
        return new DeadLettersAction(selection.topic(), selection.key(), selection.all(), count, "requeued");
    }

    /**
     * Deletes the dead letters of a topic, a key, or both for good, or all of them with {@code all=true}; their keys
     * are released.
     */
    @DeleteOperation
    public DeadLettersAction discardMatching(@Nullable String topic, @Nullable String key, @Nullable Boolean all) {
        Selection selection = Selection.of(topic, key, all, "discard");
        int count = this.deadLetters.discard(selection.topic(), selection.key());
        log.info("Outbox: the actuator endpoint was asked to discard {}: {} discarded", selection, count);
        return new DeadLettersAction(selection.topic(), selection.key(), selection.all(), count, "discarded");
    }

    private void wakeUpRelays() {
        this.relays.forEach(OutboxRelay::wakeUp);
    }

    /** Which dead letters a bulk operation touches: a topic, a key, both, or all of them. */
    private record Selection(
            @Nullable String topic, @Nullable String key, boolean all) {

        static Selection of(@Nullable String topic, @Nullable String key, @Nullable Boolean all, String action) {
            boolean everything = Boolean.TRUE.equals(all);
            if ((topic != null && topic.isBlank()) || (key != null && key.isBlank())) {
                throw new InvalidEndpointRequestException(
                        "A blank topic or key selects nothing: leave it out, or name it.", "blank topic or key");
            }
            if (everything && (topic != null || key != null)) {
                throw new InvalidEndpointRequestException(
                        ("all=true %ss every dead letter, so it takes no topic or key: give either all=true, or a"
                                        + " topic and/or a key.")
                                .formatted(action),
                        "all with a topic or key");
            }
            if (!everything && topic == null && key == null) {
                throw new InvalidEndpointRequestException(
                        ("Say which dead letters to %s: a topic, a key, or both; or all=true for every one of them."
                                        + " To %s one dead letter, add its id to the path.")
                                .formatted(action, action),
                        "no topic, key or all=true");
            }
            return new Selection(topic, key, everything);
        }

        @Override
        public String toString() {
            if (this.all) {
                return "all dead letters";
            }
            if (this.topic != null && this.key != null) {
                return "the dead letters of topic '%s' and key '%s'".formatted(this.topic, this.key);
            }
            return this.topic != null
                    ? "the dead letters of topic '%s'".formatted(this.topic)
                    : "the dead letters of key '%s'".formatted(this.key);
        }
    }

    /**
     * The outbox's state.
     *
     * @param table the outbox table
     * @param waiting rows waiting to be published
     * @param deadLetterCount all dead letters
     * @param deadLetters a page of dead letters, oldest event first
     * @param nextAfter the {@code after} that reads the next page, or {@code null} when this page is the last
     */
    public record OutboxDescriptor(
            String table,
            long waiting,
            long deadLetterCount,
            List<DeadLetter> deadLetters,
            @Nullable Long nextAfter) {}

    /**
     * What an operation on one dead letter did.
     *
     * @param id the dead letter's id
     * @param result {@code requeued}, {@code discarded} or {@code not found}
     */
    public record DeadLetterAction(long id, String result) {}

    /**
     * What an operation on several dead letters did.
     *
     * @param topic the topic it was limited to, or {@code null}
     * @param key the key it was limited to, or {@code null}
     * @param all whether it touched every dead letter
     * @param count how many dead letters it requeued or discarded
     * @param result {@code requeued} or {@code discarded}
     */
    public record DeadLettersAction(
            @Nullable String topic, @Nullable String key, boolean all, int count, String result) {}
}
