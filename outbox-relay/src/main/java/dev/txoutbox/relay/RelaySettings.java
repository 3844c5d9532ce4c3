package dev.txoutbox.relay;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How the relay polls, sends and retries.
 *
 * @param batchSize how many rows one cycle claims at the most
 * @param pollInterval how long the relay waits for new rows when it was not woken up; the fallback for rows written
 *     by other instances
 * @param sendTimeout how long a cycle waits for the broker's acknowledgements; records not acknowledged by then are
 *     retried later. Together with the claim and the delete it bounds how long the relay's transaction stays open
 * @param retryInitialDelay the delay before the first retry of a failed record
 * @param retryMultiplier the factor by which the delay grows with every further failure
 * @param retryMaxDelay the longest delay between two attempts
 * @param maxAttempts how many sends of one record may fail before it is dead-lettered; failures that say the
 *     destination is not available now ({@link FailureKind#UNAVAILABLE}) do not count toward it
 * @param concurrency how many cycles one relay runs at the same time, each in a thread and a transaction of its own:
 *     while one waits for the broker's acknowledgements, another claims and sends
 * @param tableConcurrency how many cycles all relays together, in this process and in every other one, run on one
 *     table at the same time; a cycle that finds that many running waits for one of them to end. Each cycle in
 *     flight makes the others' claims read past its locked rows and hold back the rows of the keys it holds, so
 *     beyond a few cycles more of them only share the same work among more claims
 * @param vacuumInterval how often at most the relay vacuums the outbox table itself, once it has deleted
 *     {@value OutboxRelay#VACUUM_AFTER_DELETED_ROWS} rows since its last vacuum; zero leaves the table to autovacuum
 *     alone, which looks at it at most once per {@code autovacuum_naptime} (a minute by default)
 * @param maxBatchBytes how many bytes of payload, key and headers one cycle claims at the most (at least one row
 *     always), so that a batch of large events cannot exhaust the relay's memory
 * @param shutdownTimeout how long stopping the relay waits for the acknowledgements of records in flight; rows whose
 *     records are not acknowledged by then are left for the next instance, which claims them once the publisher can
 *     no longer deliver the copies in flight ({@link RecordPublisher#maxDeliveryTime()}). Stopping returns a few
 *     seconds after this at the latest, whatever the database or the broker do
 */
public record RelaySettings(
        int batchSize,
        Duration pollInterval,
        Duration sendTimeout,
        Duration retryInitialDelay,
        double retryMultiplier,
        Duration retryMaxDelay,
        int maxAttempts,
        int concurrency,
        int tableConcurrency,
        Duration vacuumInterval,
        long maxBatchBytes,
        Duration shutdownTimeout) {

    public static final int DEFAULT_BATCH_SIZE = 500;

    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(500);

    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(30);

    public static final Duration DEFAULT_RETRY_INITIAL_DELAY = Duration.ofSeconds(1);

    public static final double DEFAULT_RETRY_MULTIPLIER = 2.0;

    public static final Duration DEFAULT_RETRY_MAX_DELAY = Duration.ofMinutes(5);

    public static final int DEFAULT_MAX_ATTEMPTS = 10;

    public static final int DEFAULT_CONCURRENCY = 2;

    public static final int DEFAULT_TABLE_CONCURRENCY = 4;

    public static final Duration DEFAULT_VACUUM_INTERVAL = Duration.ofSeconds(1);

    public static final long DEFAULT_MAX_BATCH_BYTES = 16L * 1024 * 1024;

    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

    public RelaySettings {
        require(batchSize >= 1 && batchSize <= 10_000, "outbox.relay.batch-size", batchSize, "between 1 and 10000");
        requirePositive(pollInterval, "outbox.relay.poll-interval");
        requirePositive(sendTimeout, "outbox.relay.send-timeout");
        requirePositive(retryInitialDelay, "outbox.relay.retry.initial-delay");
        require(retryMultiplier >= 1.0, "outbox.relay.retry.multiplier", retryMultiplier, "at least 1.0");
        requirePositive(retryMaxDelay, "outbox.relay.retry.max-delay");
        require(
                retryMaxDelay.compareTo(retryInitialDelay) >= 0,
                "outbox.relay.retry.max-delay",
                retryMaxDelay,
                "at least outbox.relay.retry.initial-delay (" + retryInitialDelay + ")");
        require(maxAttempts >= 1, "outbox.relay.retry.max-attempts", maxAttempts, "at least 1");
        require(concurrency >= 1 && concurrency <= 64, "outbox.relay.concurrency", concurrency, "between 1 and 64");
        require(
                tableConcurrency >= 1 && tableConcurrency <= 1024,
                "outbox.relay.table-concurrency",
                tableConcurrency,
                "between 1 and 1024");
        require(
                vacuumInterval != null
                        && !vacuumInterval.isNegative()
                        && vacuumInterval.compareTo(Duration.ofDays(1)) <= 0,
                "outbox.relay.vacuum-interval",
                vacuumInterval,
                "a duration of at most a day such as 1s, or 0 to leave the table to autovacuum");
        require(maxBatchBytes >= 1, "outbox.relay.max-batch-bytes", maxBatchBytes, "at least 1 byte, such as 16MB");
        require(
                shutdownTimeout != null && !shutdownTimeout.isNegative(),
                "outbox.relay.shutdown-timeout",
                shutdownTimeout,
                "a duration such as 10s, or 0 not to wait for acknowledgements at all");
    }

    /** The defaults. */
    public static RelaySettings defaults() {
        return new RelaySettings(
                DEFAULT_BATCH_SIZE,
                DEFAULT_POLL_INTERVAL,
                DEFAULT_SEND_TIMEOUT,
                DEFAULT_RETRY_INITIAL_DELAY,
                DEFAULT_RETRY_MULTIPLIER,
                DEFAULT_RETRY_MAX_DELAY,
                DEFAULT_MAX_ATTEMPTS,
                DEFAULT_CONCURRENCY,
                DEFAULT_TABLE_CONCURRENCY,
                DEFAULT_VACUUM_INTERVAL,
                DEFAULT_MAX_BATCH_BYTES,
                DEFAULT_SHUTDOWN_TIMEOUT);
    }

    /** These settings with another batch size. */
    public RelaySettings withBatchSize(int batchSize) {
        return with(copy -> copy.batchSize = batchSize);
    }

    /** These settings with another poll interval. */
    public RelaySettings withPollInterval(Duration pollInterval) {
        return with(copy -> copy.pollInterval = pollInterval);
    }

    /** These settings with another send timeout. */
    public RelaySettings withSendTimeout(Duration sendTimeout) {
        return with(copy -> copy.sendTimeout = sendTimeout);
    }

    /** These settings with another retry backoff. */
    public RelaySettings withRetry(Duration initialDelay, double multiplier, Duration maxDelay) {
        return with(copy -> {
            copy.retryInitialDelay = initialDelay;
            copy.retryMultiplier = multiplier;
            copy.retryMaxDelay = maxDelay;
        });
    }

    /** These settings with another number of attempts before a record is dead-lettered. */
    public RelaySettings withMaxAttempts(int maxAttempts) {
        return with(copy -> copy.maxAttempts = maxAttempts);
    }

    /** These settings with another number of cycles running at the same time. */
    public RelaySettings withConcurrency(int concurrency) {
        return with(copy -> copy.concurrency = concurrency);
    }

    /** These settings with another number of cycles that all relays run on one table at the same time. */
    public RelaySettings withTableConcurrency(int tableConcurrency) {
        return with(copy -> copy.tableConcurrency = tableConcurrency);
    }

    /** These settings with another interval between the relay's own vacuums of the table; zero for none. */
    public RelaySettings withVacuumInterval(Duration vacuumInterval) {
        return with(copy -> copy.vacuumInterval = vacuumInterval);
    }

    /** These settings with another bound on the bytes one cycle claims. */
    public RelaySettings withMaxBatchBytes(long maxBatchBytes) {
        return with(copy -> copy.maxBatchBytes = maxBatchBytes);
    }

    /** These settings with another wait for acknowledgements in flight when the relay stops. */
    public RelaySettings withShutdownTimeout(Duration shutdownTimeout) {
        return with(copy -> copy.shutdownTimeout = shutdownTimeout);
    }

    private RelaySettings with(Consumer<Copy> change) {
        Copy copy = new Copy(this);
        change.accept(copy);
        return copy.settings();
    }

    /** The components of settings being changed, validated again when they become settings. */
    private static final class Copy {

        int batchSize;

        Duration pollInterval;

        Duration sendTimeout;

        Duration retryInitialDelay;

        double retryMultiplier;

        Duration retryMaxDelay;

        int maxAttempts;

        int concurrency;

        int tableConcurrency;

        Duration vacuumInterval;

        long maxBatchBytes;

        Duration shutdownTimeout;

        Copy(RelaySettings settings) {
            this.batchSize = settings.batchSize;
            this.pollInterval = settings.pollInterval;
            this.sendTimeout = settings.sendTimeout;
            this.retryInitialDelay = settings.retryInitialDelay;
            this.retryMultiplier = settings.retryMultiplier;
            this.retryMaxDelay = settings.retryMaxDelay;
            this.maxAttempts = settings.maxAttempts;
            this.concurrency = settings.concurrency;
            this.tableConcurrency = settings.tableConcurrency;
            this.vacuumInterval = settings.vacuumInterval;
            this.maxBatchBytes = settings.maxBatchBytes;
            this.shutdownTimeout = settings.shutdownTimeout;
        }

        RelaySettings settings() {
            return new RelaySettings(
                    this.batchSize,
                    this.pollInterval,
                    this.sendTimeout,
                    this.retryInitialDelay,
                    this.retryMultiplier,
                    this.retryMaxDelay,
                    this.maxAttempts,
                    this.concurrency,
                    this.tableConcurrency,
                    this.vacuumInterval,
                    this.maxBatchBytes,
                    this.shutdownTimeout);
        }
    }

    Backoff backoff() {
        return new Backoff(retryInitialDelay, retryMultiplier, retryMaxDelay);
    }

    private static void requirePositive(Duration value, String property) {
        require(
                value != null && !value.isNegative() && !value.isZero(),
                property,
                value,
                "a positive duration such as 500ms or 30s");
    }

    private static void require(boolean valid, String property, Object value, String expected) {
        if (!valid) {
            throw new IllegalArgumentException(
                    "Invalid outbox relay setting %s=%s: it must be %s.".formatted(property, value, expected));
        }
    }
}
