package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.TestDatabase;
import java.util.List;

/**
 * {@link RelayFaultTests} on embedded PostgreSQL with every relay in log mode, reading the write-ahead log (one reads, the
 * others wait as standbys), and writers that take no key lock.
 */
class PostgresLogModeRelayFaultTests extends RelayFaultTests {

    PostgresLogModeRelayFaultTests() {
        super(TestDatabase.POSTGRESQL);
    }

    @Override
    OutboxStore newStore() {
        return LogMode.withoutKeyLocks(super.newStore());
    }

    @Override
    OutboxRelay newRelay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners) {
        return LogMode.relay(store, publisher, settings, listeners);
    }
}
