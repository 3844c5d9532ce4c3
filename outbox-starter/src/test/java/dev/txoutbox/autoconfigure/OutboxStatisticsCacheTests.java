package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.OutboxTestTables;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;

/**
 * When the figures are read from the tables again, by a clock the test moves: the cache's rule, without servers; and
 * that a stuck read ends, in an embedded database.
 */
class OutboxStatisticsCacheTests {

    private final AtomicLong nanos = new AtomicLong();

    private final AtomicInteger reads = new AtomicInteger();

    @Test
    void aReadingIsSharedWithinTheRefreshIntervalAndTheTableIsReadAgainAfterIt() {
        OutboxStatisticsCache cache = cache(Duration.ofSeconds(1), Duration.ofMillis(2), false);

        assertThat(cache.figure(OutboxStatistics::waiting)).isEqualTo(1);
        advance(Duration.ofMillis(900));
        assertThat(cache.figure(OutboxStatistics::waiting))
                .as("asked again within the interval")
                .isEqualTo(1);
        advance(Duration.ofMillis(100));
        assertThat(cache.figure(OutboxStatistics::waiting))
                .as("asked once the interval has passed")
                .isEqualTo(2);
    }

    @Test
    void aSlowReadIsReusedForTwentyTimesAsLongAsItTook() {
        // A read of a second, as on a table with a large backlog: reused for twenty seconds, not for one.
        OutboxStatisticsCache cache = cache(Duration.ofSeconds(1), Duration.ofSeconds(1), false);

        cache.get();
        advance(Duration.ofSeconds(OutboxStatisticsCache.COST_FACTOR - 1));
        cache.get();
        assertThat(this.reads).hasValue(1);
        advance(Duration.ofSeconds(1));
        cache.get();
        assertThat(this.reads).hasValue(2);
    }

    @Test
    void aVerySlowReadIsReusedForThirtySecondsAtMostSoThatTheHealthSeesAGrowingLagSoon() {
        // Fifteen seconds, waiting for a pooled connection included: twenty times that would be five minutes.
        OutboxStatisticsCache cache = cache(Duration.ofSeconds(1), Duration.ofSeconds(15), false);

        cache.get();
        advance(OutboxStatisticsCache.MAX_REUSE.minusMillis(1));
        cache.get();
        assertThat(this.reads).hasValue(1);
        advance(Duration.ofMillis(1));
        cache.get();
        assertThat(this.reads)
                .as("asked again once the reading is thirty seconds old")
                .hasValue(2);
    }

    @Test
    void aReusedReadingReportsTheLagItReadPlusItsAgeAndZeroWhenNothingWaited() {
        Instant readAt = Instant.parse("2026-01-01T00:00:00Z");
        AtomicReference<Instant> oldest = new AtomicReference<>(readAt.minusSeconds(10));
        OutboxStatisticsCache cache = new OutboxStatisticsCache(
                () -> new OutboxStatistics(1, oldest.get(), 0, 0, readAt), Duration.ofSeconds(1), this.nanos::get);

        assertThat(cache.get().lag()).isEqualTo(Duration.ofSeconds(10));
        advance(Duration.ofMillis(900));
        assertThat(cache.get().lag()).as("reused 900ms later").isEqualTo(Duration.ofMillis(10_900));
        assertThat(cache.lagSeconds()).isEqualTo(10.9);

        oldest.set(null);
        advance(Duration.ofSeconds(1));
        assertThat(cache.get().lag()).isZero();
        advance(Duration.ofMillis(900));
        assertThat(cache.get().lag()).as("nothing waited: reused 900ms later").isZero();
    }

    @Test
    void whoeverAsksWhileAReadRunsGetsThePreviousReadingAtOnce() throws Exception {
        CountDownLatch stuck = new CountDownLatch(1);
        CountDownLatch readStarted = new CountDownLatch(1);
        OutboxStatisticsCache cache = new OutboxStatisticsCache(
                () -> {
                    int read = this.reads.incrementAndGet();
                    if (read == 2) {
                        readStarted.countDown();
                        try {
                            stuck.await();
                        } catch (InterruptedException ex) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    return new OutboxStatistics(read, null, 0, 0, Instant.now());
                },
                Duration.ofSeconds(1),
                this.nanos::get);
        assertThat(cache.figure(OutboxStatistics::waiting)).isEqualTo(1);
        advance(Duration.ofSeconds(1));
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            Future<Double> slow = executor.submit(() -> cache.figure(OutboxStatistics::waiting));
            assertThat(readStarted.await(30, TimeUnit.SECONDS)).isTrue();

            // Asked from another thread, so that waiting for the read fails the test instead of hanging it.
            assertThat(executor.submit(() -> cache.figure(OutboxStatistics::waiting))
                            .get(30, TimeUnit.SECONDS))
                    .as("asked while the second read hangs")
                    .isEqualTo(1);

            stuck.countDown();
            assertThat(slow.get(30, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(cache.figure(OutboxStatistics::waiting)).isEqualTo(2);
            assertThat(this.reads).hasValue(2);
        } finally {
            stuck.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void aFailedReadIsTriedAgainAfterTheIntervalOrAsLongAsItTookNotTwentyTimesThat() {
        // A database that does not answer makes the read fail after a timeout.
        OutboxStatisticsCache cache = cache(Duration.ofSeconds(1), Duration.ofSeconds(3), true);

        assertThat(cache.get().error()).isNotNull();
        assertThat(cache.figure(OutboxStatistics::waiting)).isNaN();
        assertThat(this.reads).hasValue(1);
        advance(Duration.ofMillis(2_999));
        cache.get();
        assertThat(this.reads).as("asked again before as long as the read took").hasValue(1);
        advance(Duration.ofMillis(1));
        cache.get();
        assertThat(this.reads).hasValue(2);
    }

    @Test
    void aZeroIntervalReadsTheTablesEveryTimeTheyAreAskedWhenReadsAreQuick() {
        OutboxStatisticsCache cache = cache(Duration.ZERO, Duration.ZERO, false);

        cache.get();
        cache.get();
        cache.get();

        assertThat(this.reads).hasValue(3);
    }

    /** A cache whose reads take {@code readTime} by its clock, and return the number of reads so far as waiting. */
    private OutboxStatisticsCache cache(Duration interval, Duration readTime, boolean failing) {
        Supplier<OutboxStatistics> reader = () -> {
            int read = this.reads.incrementAndGet();
            advance(readTime);
            if (failing) {
                throw new IllegalStateException("Connection is not available, request timed out");
            }
            return new OutboxStatistics(read, null, 0, 0, Instant.now());
        };
        return new OutboxStatisticsCache(reader, interval, this.nanos::get);
    }

    private void advance(Duration duration) {
        this.nanos.addAndGet(TimeUnit.NANOSECONDS.convert(duration));
    }

    @Test
    void aReadStuckBehindALockFailsAfterItsTimeoutInsteadOfHangingForGood() throws Exception {
        OutboxStore store = OutboxTestTables.newStore();
        Supplier<OutboxStatistics> reader = OutboxStatisticsCache.reader(store, Duration.ofSeconds(1));
        try (Connection locker = store.dataSource().getConnection()) {
            locker.setAutoCommit(false);
            try (Statement lock = locker.createStatement()) {
                lock.execute("LOCK TABLE outbox_event IN ACCESS EXCLUSIVE MODE");
            }
            ExecutorService executor = Executors.newSingleThreadExecutor();
            try {
                Future<OutboxStatistics> read = executor.submit(reader::get);
                assertThatThrownBy(() -> read.get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause()
                        .isInstanceOf(DataAccessException.class);
            } finally {
                locker.rollback();
                executor.shutdownNow();
            }
        }
        assertThat(reader.get().waiting()).as("read once the lock is gone").isZero();
    }
}
