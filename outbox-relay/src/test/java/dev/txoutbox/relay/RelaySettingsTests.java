package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RelaySettingsTests {

    @Test
    void rejectsANonPositiveBatchSizeNamingTheProperty() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RelaySettings.defaults().withBatchSize(0))
                .withMessageContaining("outbox.relay.batch-size=0")
                .withMessageContaining("between 1 and 10000");
    }

    @Test
    void rejectsAZeroPollInterval() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RelaySettings.defaults().withPollInterval(Duration.ZERO))
                .withMessageContaining("outbox.relay.poll-interval");
    }

    @Test
    void rejectsAMaxDelayBelowTheInitialDelay() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RelaySettings.defaults().withRetry(Duration.ofSeconds(10), 2, Duration.ofSeconds(1)))
                .withMessageContaining("outbox.relay.retry.max-delay");
    }

    @Test
    void rejectsATableConcurrencyOfZeroNamingTheProperty() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RelaySettings.defaults().withTableConcurrency(0))
                .withMessageContaining("outbox.relay.table-concurrency=0")
                .withMessageContaining("between 1 and 1024");
    }

    @Test
    void rejectsANegativeVacuumIntervalAndTakesZeroForNone() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> RelaySettings.defaults().withVacuumInterval(Duration.ofSeconds(-1)))
                .withMessageContaining("outbox.relay.vacuum-interval=PT-1S")
                .withMessageContaining("0 to leave the table to autovacuum");
        assertThat(RelaySettings.defaults().withVacuumInterval(Duration.ZERO).vacuumInterval())
                .isZero();
    }

    @RepeatedTest(20)
    void backoffGrowsExponentiallyWithJitterUpToTheMaximum() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), 2.0, Duration.ofMillis(1000));

        assertThat(backoff.delayMillis(1)).isBetween(50L, 100L);
        assertThat(backoff.delayMillis(3)).isBetween(200L, 400L);
        assertThat(backoff.delayMillis(30)).isBetween(500L, 1000L);
    }
}
