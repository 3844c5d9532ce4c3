package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayRecoveryTests} on embedded MariaDB. */
class MariaDbRelayRecoveryTests extends RelayRecoveryTests {

    MariaDbRelayRecoveryTests() {
        super(TestDatabase.MARIADB);
    }
}
