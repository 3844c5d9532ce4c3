package dev.txoutbox.testing;

import dev.txoutbox.relay.FailureKind;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A publisher that hands every call to another one, for tests and benchmarks that change how records are sent and
 * override {@link #publish(OutboxRecord)} only: the failure rules stay the other publisher's.
 */
public class ForwardingRecordPublisher implements RecordPublisher {

    private final RecordPublisher publisher;

    public ForwardingRecordPublisher(RecordPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    public CompletableFuture<?> publish(OutboxRecord record) {
        return this.publisher.publish(record);
    }

    @Override
    public void sendBuffered() {
        this.publisher.sendBuffered();
    }

    @Override
    public FailureKind classify(OutboxRecord record, Throwable error) {
        return this.publisher.classify(record, error);
    }

    @Override
    public Duration maxDeliveryTime() {
        return this.publisher.maxDeliveryTime();
    }

    @Override
    public boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
        return this.publisher.mayStillBeWritten(record, error);
    }
}
