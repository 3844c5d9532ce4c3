package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link CycleStoreIntegrationTests} on embedded MariaDB. */
class MariaDbCycleStoreIntegrationTests extends CycleStoreIntegrationTests {

    MariaDbCycleStoreIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
