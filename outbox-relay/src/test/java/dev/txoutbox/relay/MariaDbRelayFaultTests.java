package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFaultTests} on embedded MariaDB. */
class MariaDbRelayFaultTests extends RelayFaultTests {

    MariaDbRelayFaultTests() {
        super(TestDatabase.MARIADB);
    }
}
