package dev.txoutbox.relay;

import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.util.List;

/**
 * How the relays of a contract test find their rows: by polling the table, or by reading PostgreSQL's write-ahead log
 * (one relay reads, the others wait as standbys), whose writers take no key lock.
 */
enum RelayMode {

    /** Relays that poll the table, written with key locks. */
    POLL {
        @Override
        OutboxStore newStore(TestDatabase database) {
            return OutboxTestTables.newStore(database);
        }

        @Override
        OutboxRelay newRelay(
                OutboxStore store,
                RecordPublisher publisher,
                RelaySettings settings,
                List<? extends OutboxRelayListener> listeners) {
            return new OutboxRelay(store, publisher, settings, listeners);
        }
    },

    /** Relays that read the log, on a table written without key locks. */
    LOG {
        @Override
        OutboxStore newStore(TestDatabase database) {
            return LogMode.withoutKeyLocks(OutboxTestTables.newStore(database));
        }

        @Override
        OutboxRelay newRelay(
                OutboxStore store,
                RecordPublisher publisher,
                RelaySettings settings,
                List<? extends OutboxRelayListener> listeners) {
            return LogMode.relay(store, publisher, settings, listeners);
        }
    };

    /** A new outbox table in a database of its own, written as the relays of this mode need it. */
    abstract OutboxStore newStore(TestDatabase database);

    /** A relay of this mode, with listeners. */
    abstract OutboxRelay newRelay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners);
}
