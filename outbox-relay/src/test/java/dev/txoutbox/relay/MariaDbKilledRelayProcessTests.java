package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link KilledRelayProcessTests} on embedded MariaDB. */
class MariaDbKilledRelayProcessTests extends KilledRelayProcessTests {

    MariaDbKilledRelayProcessTests() {
        super(TestDatabase.MARIADB);
    }
}
