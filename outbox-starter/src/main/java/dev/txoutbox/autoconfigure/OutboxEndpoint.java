package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code outbox} actuator endpoint: {@code GET} shows the waiting rows and the dead letters, {@code POST
 * /{id}} requeues a dead letter, {@code DELETE /{id}} discards one.
 */
@Endpoint(id = "outbox")
public class OutboxEndpoint {

    private static final int LISTED = 100;

    private final OutboxStore store;

    private final DeadLetters deadLetters;

    private final ObjectProvider<OutboxRelay> relays;

    OutboxEndpoint(OutboxStore store, DeadLetters deadLetters, ObjectProvider<OutboxRelay> relays) {
        this.store = store;
        this.deadLetters = deadLetters;
        this.relays = relays;
    }

    /** The outbox's state: rows waiting, and the first dead letters. */
    @ReadOperation
    public OutboxDescriptor outbox() {
        return new OutboxDescriptor(
                this.store.table().value(),
                this.store.count(),
                this.deadLetters.count(),
                this.deadLetters.list(LISTED));
    }

    /** Moves a dead letter back into the outbox; its key is released. */
    @WriteOperation
    public DeadLetterAction requeue(@Selector long id) {
        boolean done = this.deadLetters.requeue(id);
        if (done) {
            this.relays.forEach(OutboxRelay::wakeUp);
        }
        return new DeadLetterAction(id, done ? "requeued" : "not found");
    }

    /** Deletes a dead letter for good; its key is released. */
    @DeleteOperation
    public DeadLetterAction discard(@Selector long id) {
        return new DeadLetterAction(id, this.deadLetters.discard(id) ? "discarded" : "not found");
    }

    /**
     * The outbox's state.
     *
     * @param table the outbox table
     * @param waiting rows waiting to be published
     * @param deadLetterCount all dead letters
     * @param deadLetters the first dead letters, oldest event first
     */
    public record OutboxDescriptor(String table, long waiting, long deadLetterCount, List<DeadLetter> deadLetters) {}

    /**
     * What an operation did.
     *
     * @param id the dead letter's id
     * @param result {@code requeued}, {@code discarded} or {@code not found}
     */
    public record DeadLetterAction(long id, String result) {}
}
