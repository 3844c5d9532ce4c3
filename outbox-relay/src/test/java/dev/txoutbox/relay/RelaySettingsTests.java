package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class RelaySettingsTests {

    @Test
    void rejectsANonPositiveBatchSizeNamingTheComponentNotAProperty() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() -> RelaySettings.builder().batchSize(0).build())
                .withMessage("Invalid RelaySettings.batchSize=0: it must be between 1 and 10000.")
                .satisfies(ex -> {
                    assertThat(ex.setting()).isEqualTo("batchSize");
                    assertThat(ex.value()).isEqualTo(0);
                    assertThat(ex.reason()).isEqualTo("it must be between 1 and 10000");
                });
    }

    @Test
    void rejectsAZeroPollInterval() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() ->
                        RelaySettings.builder().pollInterval(Duration.ZERO).build())
                .withMessageContaining("RelaySettings.pollInterval=PT0S")
                .satisfies(ex -> assertThat(ex.setting()).isEqualTo("pollInterval"));
    }

    @Test
    void rejectsAMaxDelayBelowTheInitialDelay() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() -> RelaySettings.builder()
                        .retry(Duration.ofSeconds(10), 2, Duration.ofSeconds(1))
                        .build())
                .withMessageContaining("RelaySettings.retryMaxDelay=PT1S")
                .withMessageContaining("at least the retry's initial delay (PT10S)");
    }

    @Test
    void rejectsATableConcurrencyOfZeroNamingTheComponent() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() -> RelaySettings.builder().tableConcurrency(0).build())
                .withMessageContaining("RelaySettings.tableConcurrency=0")
                .withMessageContaining("between 1 and 1024");
    }

    @Test
    void rejectsANegativeVacuumIntervalAndTakesZeroForNone() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() -> RelaySettings.builder()
                        .vacuumInterval(Duration.ofSeconds(-1))
                        .build())
                .withMessageContaining("RelaySettings.vacuumInterval=PT-1S")
                .withMessageContaining("0 to leave the table to autovacuum");
        assertThat(RelaySettings.builder().vacuumInterval(Duration.ZERO).build().vacuumInterval())
                .isZero();
    }

    @Test
    void messagesNeverNameTheStartersProperties() {
        assertThatExceptionOfType(InvalidRelaySettingException.class)
                .isThrownBy(() -> RelaySettings.builder().maxBatchBytes(0).build())
                .withMessageNotContaining("outbox.")
                .withMessageContaining("RelaySettings.maxBatchBytes=0");
    }

    @Test
    void theBuilderStartsFromTheDefaults() {
        RelaySettings defaults = RelaySettings.builder().build();

        assertThat(defaults).isEqualTo(RelaySettings.defaults());
        assertThat(defaults.batchSize()).isEqualTo(RelaySettings.DEFAULT_BATCH_SIZE);
        assertThat(defaults.pollInterval()).isEqualTo(RelaySettings.DEFAULT_POLL_INTERVAL);
        assertThat(defaults.sendTimeout()).isEqualTo(RelaySettings.DEFAULT_SEND_TIMEOUT);
        assertThat(defaults.retryInitialDelay()).isEqualTo(RelaySettings.DEFAULT_RETRY_INITIAL_DELAY);
        assertThat(defaults.retryMultiplier()).isEqualTo(RelaySettings.DEFAULT_RETRY_MULTIPLIER);
        assertThat(defaults.retryMaxDelay()).isEqualTo(RelaySettings.DEFAULT_RETRY_MAX_DELAY);
        assertThat(defaults.maxAttempts()).isEqualTo(RelaySettings.DEFAULT_MAX_ATTEMPTS);
        assertThat(defaults.concurrency()).isEqualTo(RelaySettings.DEFAULT_CONCURRENCY);
        assertThat(defaults.tableConcurrency()).isEqualTo(RelaySettings.DEFAULT_TABLE_CONCURRENCY);
        assertThat(defaults.vacuumInterval()).isEqualTo(RelaySettings.DEFAULT_VACUUM_INTERVAL);
        assertThat(defaults.maxBatchBytes()).isEqualTo(RelaySettings.DEFAULT_MAX_BATCH_BYTES);
        assertThat(defaults.shutdownTimeout()).isEqualTo(RelaySettings.DEFAULT_SHUTDOWN_TIMEOUT);
        assertThat(defaults.synchronousCommit()).isFalse();
    }

    @Test
    void toBuilderKeepsEveryComponentButTheOnesItChanges() {
        RelaySettings settings = new RelaySettings(
                7,
                Duration.ofMillis(70),
                Duration.ofSeconds(7),
                Duration.ofMillis(7),
                1.5,
                Duration.ofSeconds(70),
                77,
                3,
                9,
                Duration.ZERO,
                7_000,
                Duration.ofSeconds(17),
                true);

        assertThat(settings.toBuilder().build()).isEqualTo(settings);
        assertThat(settings.toBuilder().concurrency(1).build())
                .isEqualTo(new RelaySettings(
                        7,
                        Duration.ofMillis(70),
                        Duration.ofSeconds(7),
                        Duration.ofMillis(7),
                        1.5,
                        Duration.ofSeconds(70),
                        77,
                        1,
                        9,
                        Duration.ZERO,
                        7_000,
                        Duration.ofSeconds(17),
                        true));
    }

    @RepeatedTest(20)
    void backoffGrowsExponentiallyWithJitterUpToTheMaximum() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), 2.0, Duration.ofMillis(1000));

        assertThat(backoff.delayMillis(1)).isBetween(50L, 100L);
        assertThat(backoff.delayMillis(3)).isBetween(200L, 400L);
        assertThat(backoff.delayMillis(30)).isBetween(500L, 1000L);
    }
}
