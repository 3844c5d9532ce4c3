package dev.txoutbox.relay;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How the relay polls, sends and retries. Built with {@link #builder()}, or {@link #toBuilder()} from other settings;
 * invalid values throw {@link InvalidRelaySettingException}.
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
 * @param synchronousCommit whether every cycle's commit waits until the database has flushed it to disk (and to its
 *     synchronous standbys), as the server's {@code synchronous_commit} says. Off, a PostgreSQL cycle whose sends
 *     all succeeded commits with {@code synchronous_commit=off}: the relay goes on at once, and the server flushes
 *     the commit within a few hundred milliseconds. Such a commit holds only the deletes of rows whose records the
 *     broker has acknowledged; a crash of the database server, or a failover, that loses it brings those rows back,
 *     and their records are published again with the same event ids. No acknowledged event can be lost so, and no
 *     business transaction is touched. A cycle that recorded failed sends waits for its flush either way, so that
 *     its holds on records the broker may still write survive such a crash
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
        Duration shutdownTimeout,
        boolean synchronousCommit) {

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

    public static final boolean DEFAULT_SYNCHRONOUS_COMMIT = false;

    public RelaySettings {
        require(batchSize >= 1 && batchSize <= 10_000, "batchSize", batchSize, "between 1 and 10000");
        requirePositive(pollInterval, "pollInterval");
        requirePositive(sendTimeout, "sendTimeout");
        requirePositive(retryInitialDelay, "retryInitialDelay");
        require(retryMultiplier >= 1.0, "retryMultiplier", retryMultiplier, "at least 1.0");
        requirePositive(retryMaxDelay, "retryMaxDelay");
        require(
                retryMaxDelay.compareTo(retryInitialDelay) >= 0,
                "retryMaxDelay",
                retryMaxDelay,
                "at least the retry's initial delay (" + retryInitialDelay + ")");
        require(maxAttempts >= 1, "maxAttempts", maxAttempts, "at least 1");
        require(concurrency >= 1 && concurrency <= 64, "concurrency", concurrency, "between 1 and 64");
        require(
                tableConcurrency >= 1 && tableConcurrency <= 1024,
                "tableConcurrency",
                tableConcurrency,
                "between 1 and 1024");
        require(
                vacuumInterval != null
                        && !vacuumInterval.isNegative()
                        && vacuumInterval.compareTo(Duration.ofDays(1)) <= 0,
                "vacuumInterval",
                vacuumInterval,
                "a duration of at most a day such as 1s, or 0 to leave the table to autovacuum");
        require(maxBatchBytes >= 1, "maxBatchBytes", maxBatchBytes, "at least 1 byte, such as 16MB");
        require(
                shutdownTimeout != null && !shutdownTimeout.isNegative(),
                "shutdownTimeout",
                shutdownTimeout,
                "a duration such as 10s, or 0 not to wait for acknowledgements at all");
    }

    /** The defaults. */
    public static RelaySettings defaults() {
        return builder().build();
    }

    /** A builder that starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder that starts from these settings. */
    public Builder toBuilder() {
        return new Builder()
                .batchSize(this.batchSize)
                .pollInterval(this.pollInterval)
                .sendTimeout(this.sendTimeout)
                .retry(this.retryInitialDelay, this.retryMultiplier, this.retryMaxDelay)
                .maxAttempts(this.maxAttempts)
                .concurrency(this.concurrency)
                .tableConcurrency(this.tableConcurrency)
                .vacuumInterval(this.vacuumInterval)
                .maxBatchBytes(this.maxBatchBytes)
                .shutdownTimeout(this.shutdownTimeout)
                .synchronousCommit(this.synchronousCommit);
    }

    Backoff backoff() {
        return new Backoff(retryInitialDelay, retryMultiplier, retryMaxDelay);
    }

    private static void requirePositive(@Nullable Duration value, String setting) {
        require(
                value != null && !value.isNegative() && !value.isZero(),
                setting,
                value,
                "a positive duration such as 500ms or 30s");
    }

    private static void require(boolean valid, String setting, @Nullable Object value, String expected) {
        if (!valid) {
            throw new InvalidRelaySettingException(setting, value, "it must be " + expected);
        }
    }

    /**
     * Builds {@link RelaySettings}, from the defaults or from other settings; {@link #build()} validates them. Its
     * methods are named after the components they set.
     */
    public static final class Builder {

        private int batchSize = DEFAULT_BATCH_SIZE;

        private Duration pollInterval = DEFAULT_POLL_INTERVAL;

        private Duration sendTimeout = DEFAULT_SEND_TIMEOUT;

        private Duration retryInitialDelay = DEFAULT_RETRY_INITIAL_DELAY;

        private double retryMultiplier = DEFAULT_RETRY_MULTIPLIER;

        private Duration retryMaxDelay = DEFAULT_RETRY_MAX_DELAY;

        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;

        private int concurrency = DEFAULT_CONCURRENCY;

        private int tableConcurrency = DEFAULT_TABLE_CONCURRENCY;

        private Duration vacuumInterval = DEFAULT_VACUUM_INTERVAL;

        private long maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;

        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

        private boolean synchronousCommit = DEFAULT_SYNCHRONOUS_COMMIT;

        private Builder() {}

        /** See {@link RelaySettings#batchSize()}. */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** See {@link RelaySettings#pollInterval()}. */
        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        /** See {@link RelaySettings#sendTimeout()}. */
        public Builder sendTimeout(Duration sendTimeout) {
            this.sendTimeout = sendTimeout;
            return this;
        }

        /** The retry backoff at once: {@link #retryInitialDelay}, {@link #retryMultiplier}, {@link #retryMaxDelay}. */
        public Builder retry(Duration initialDelay, double multiplier, Duration maxDelay) {
            return retryInitialDelay(initialDelay).retryMultiplier(multiplier).retryMaxDelay(maxDelay);
        }

        /** See {@link RelaySettings#retryInitialDelay()}. */
        public Builder retryInitialDelay(Duration retryInitialDelay) {
            this.retryInitialDelay = retryInitialDelay;
            return this;
        }

        /** See {@link RelaySettings#retryMultiplier()}. */
        public Builder retryMultiplier(double retryMultiplier) {
            this.retryMultiplier = retryMultiplier;
            return this;
        }

        /** See {@link RelaySettings#retryMaxDelay()}. */
        public Builder retryMaxDelay(Duration retryMaxDelay) {
            this.retryMaxDelay = retryMaxDelay;
            return this;
        }

        /** See {@link RelaySettings#maxAttempts()}. */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** See {@link RelaySettings#concurrency()}. */
        public Builder concurrency(int concurrency) {
            this.concurrency = concurrency;
            return this;
        }

        /** See {@link RelaySettings#tableConcurrency()}. */
        public Builder tableConcurrency(int tableConcurrency) {
            this.tableConcurrency = tableConcurrency;
            return this;
        }

        /** See {@link RelaySettings#vacuumInterval()}. */
        public Builder vacuumInterval(Duration vacuumInterval) {
            this.vacuumInterval = vacuumInterval;
            return this;
        }

        /** See {@link RelaySettings#maxBatchBytes()}. */
        public Builder maxBatchBytes(long maxBatchBytes) {
            this.maxBatchBytes = maxBatchBytes;
            return this;
        }

        /** See {@link RelaySettings#shutdownTimeout()}. */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /** See {@link RelaySettings#synchronousCommit()}. */
        public Builder synchronousCommit(boolean synchronousCommit) {
            this.synchronousCommit = synchronousCommit;
            return this;
        }

        /**
         * The settings.
         *
         * @throws InvalidRelaySettingException naming the first component whose value is invalid
         */
        public RelaySettings build() {
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
                    this.shutdownTimeout,
                    this.synchronousCommit);
        }
    }
}
