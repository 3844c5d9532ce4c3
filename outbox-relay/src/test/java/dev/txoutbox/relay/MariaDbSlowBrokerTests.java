package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link SlowBrokerTests} on embedded MariaDB. */
class MariaDbSlowBrokerTests extends SlowBrokerTests {

    MariaDbSlowBrokerTests() {
        super(TestDatabase.MARIADB);
    }
}
