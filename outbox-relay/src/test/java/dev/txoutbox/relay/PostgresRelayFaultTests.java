package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFaultTests} on embedded PostgreSQL. */
class PostgresRelayFaultTests extends RelayFaultTests {

    PostgresRelayFaultTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
