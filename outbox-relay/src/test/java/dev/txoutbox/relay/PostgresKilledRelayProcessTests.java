package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link KilledRelayProcessTests} on embedded PostgreSQL. */
class PostgresKilledRelayProcessTests extends KilledRelayProcessTests {

    PostgresKilledRelayProcessTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
