package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link CycleBoundsIntegrationTests} on embedded MariaDB. */
class MariaDbCycleBoundsIntegrationTests extends CycleBoundsIntegrationTests {

    MariaDbCycleBoundsIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
