package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.TestDatabase;

/**
 * {@link SlowBrokerTests} on embedded PostgreSQL with the relay in log mode and writers that take no key lock; the
 * test that drives a relay one cycle at a time is poll mode's only.
 */
class PostgresLogModeSlowBrokerTests extends SlowBrokerTests {

    PostgresLogModeSlowBrokerTests() {
        super(TestDatabase.POSTGRESQL);
    }

    @Override
    OutboxStore newStore() {
        return LogMode.withoutKeyLocks(super.newStore());
    }

    @Override
    OutboxRelay newRelay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        return LogMode.relay(store, publisher, settings);
    }

    @Override
    boolean cyclesOnDemand() {
        return false;
    }
}
