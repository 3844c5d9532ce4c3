package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/**
 * {@link SlowBrokerTests} on embedded PostgreSQL with the relay in log mode and writers that take no key lock; the
 * test that drives a relay one cycle at a time is poll mode's only.
 */
class PostgresLogModeSlowBrokerTests extends SlowBrokerTests {

    PostgresLogModeSlowBrokerTests() {
        super(TestDatabase.POSTGRESQL, RelayMode.LOG);
    }
}
