package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxStoreIntegrationTests} on embedded MariaDB. */
class MariaDbOutboxStoreIntegrationTests extends OutboxStoreIntegrationTests {

    MariaDbOutboxStoreIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
