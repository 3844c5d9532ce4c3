package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link ProcessedEventsIntegrationTests} on embedded MariaDB. */
class MariaDbProcessedEventsIntegrationTests extends ProcessedEventsIntegrationTests {

    MariaDbProcessedEventsIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
