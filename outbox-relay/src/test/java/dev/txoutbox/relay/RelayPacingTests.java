package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.OutboxRelay.CycleResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a relay thread claims again after a cycle, by what the cycle did. */
class RelayPacingTests {

    private final RelaySettings settings = RelaySettings.builder()
            .batchSize(100)
            .pollInterval(Duration.ofSeconds(2))
            .build();

    @Test
    void aFullBatchThatGotSomewhereIsFollowedAtOnce() {
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(100, 100, 0, 0), this.settings))
                .isZero();
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(100, 0, 0, 1), this.settings))
                .isZero();
    }

    @Test
    void aFullBatchWithSomeRowsHeldBackForKeyOrderIsFollowedAtOnce() {
        // Two cycles draining a backlog of keys spread as by chance share a few keys in most of their batches.
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(100, 97, 0, 0, 3), this.settings))
                .isZero();
    }

    @Test
    void aBatchOfRowsAllHeldBackWaitsBrieflyForTheCycleThatHoldsTheirKeys() {
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(100, 0, 0, 0, 100), this.settings))
                .isEqualTo(50);
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(40, 30, 0, 0, 10), this.settings))
                .isEqualTo(50);
        assertThat(OutboxRelay.millisBeforeNextCycle(
                        new CycleResult(40, 30, 0, 0, 10),
                        this.settings.toBuilder()
                                .pollInterval(Duration.ofMillis(20))
                                .build()))
                .isEqualTo(20);
    }

    @Test
    void aCycleThatFoundEveryCycleSlotTakenWaitsBrieflyForOneOfThoseCyclesToEnd() {
        assertThat(OutboxRelay.millisBeforeNextCycle(CycleResult.NO_FREE_SLOT, this.settings))
                .isEqualTo(50);
        assertThat(OutboxRelay.millisBeforeNextCycle(
                        CycleResult.NO_FREE_SLOT,
                        this.settings.toBuilder()
                                .pollInterval(Duration.ofMillis(20))
                                .build()))
                .isEqualTo(20);
    }

    @Test
    void aPartialEmptyOrRefusedBatchWaitsForTheNextWakeUpOrThePollInterval() {
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(40, 40, 0, 0), this.settings))
                .isEqualTo(2000);
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(0, 0, 0, 0), this.settings))
                .isEqualTo(2000);
        assertThat(OutboxRelay.millisBeforeNextCycle(new CycleResult(100, 0, 100, 0), this.settings))
                .isEqualTo(2000);
    }
}
