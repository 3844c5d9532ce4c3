package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link SlowBrokerTests} on embedded PostgreSQL. */
class PostgresSlowBrokerTests extends SlowBrokerTests {

    PostgresSlowBrokerTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
