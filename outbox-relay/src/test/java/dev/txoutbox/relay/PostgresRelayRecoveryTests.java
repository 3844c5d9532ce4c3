package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayRecoveryTests} on embedded PostgreSQL. */
class PostgresRelayRecoveryTests extends RelayRecoveryTests {

    PostgresRelayRecoveryTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
