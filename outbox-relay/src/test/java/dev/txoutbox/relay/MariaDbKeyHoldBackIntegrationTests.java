package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link KeyHoldBackIntegrationTests} on embedded MariaDB. */
class MariaDbKeyHoldBackIntegrationTests extends KeyHoldBackIntegrationTests {

    MariaDbKeyHoldBackIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
