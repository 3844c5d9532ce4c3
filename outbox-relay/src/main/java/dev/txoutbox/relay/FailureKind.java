package dev.txoutbox.relay;

/**
 * What a failed send says about the record's chances, which decides what the relay does with its row.
 *
 * @see RecordPublisher#classify(dev.txoutbox.store.OutboxRecord, Throwable)
 */
public enum FailureKind {

    /**
     * The record can never be published, however often it is retried (it is too large, it cannot be serialized, its
     * topic name is invalid): it becomes a dead letter at once.
     */
    PERMANENT,

    /**
     * The destination is not available now (the broker is unreachable or too slow, a partition has no leader, the
     * topic does not exist yet, the relay is not authorized to write to it): the record is retried with capped
     * backoff for as long as that lasts, never dead-lettered, and the outage shows in health and metrics.
     */
    UNAVAILABLE,

    /**
     * Anything else: the record is retried with backoff, and becomes a dead letter after
     * {@link RelaySettings#maxAttempts()} failed sends.
     */
    TRANSIENT
}
