package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.store.OutboxStatistics;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** When the figures are read from the tables again, by a clock the test moves: the cache's rule, without servers. */
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
        // A read of three seconds, as on a table with a large backlog: reused for a minute, not for a second.
        OutboxStatisticsCache cache = cache(Duration.ofSeconds(1), Duration.ofSeconds(3), false);

        cache.get();
        advance(Duration.ofSeconds(3L * OutboxStatisticsCache.COST_FACTOR - 1));
        cache.get();
        assertThat(this.reads).hasValue(1);
        advance(Duration.ofSeconds(1));
        cache.get();
        assertThat(this.reads).hasValue(2);
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
}
