package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the relay reads the isolation levels that the databases report. */
class CycleStoreTests {

    @Test
    void readCommittedIsRecognizedAsEachDatabaseNamesIt() {
        assertThat(CycleStore.isReadCommitted("read committed")).isTrue();
        assertThat(CycleStore.isReadCommitted("READ-COMMITTED")).isTrue();
    }

    @Test
    void everyOtherLevelIsNotReadCommitted() {
        assertThat(CycleStore.isReadCommitted("repeatable read")).isFalse();
        assertThat(CycleStore.isReadCommitted("REPEATABLE-READ")).isFalse();
        assertThat(CycleStore.isReadCommitted("serializable")).isFalse();
        assertThat(CycleStore.isReadCommitted("SERIALIZABLE")).isFalse();
        assertThat(CycleStore.isReadCommitted("read uncommitted")).isFalse();
        assertThat(CycleStore.isReadCommitted("READ-UNCOMMITTED")).isFalse();
        assertThat(CycleStore.isReadCommitted(null)).isFalse();
    }
}
