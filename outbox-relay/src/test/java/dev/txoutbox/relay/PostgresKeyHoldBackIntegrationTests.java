package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link KeyHoldBackIntegrationTests} on embedded PostgreSQL. */
class PostgresKeyHoldBackIntegrationTests extends KeyHoldBackIntegrationTests {

    PostgresKeyHoldBackIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
