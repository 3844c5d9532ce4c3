package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link ConcurrentMigrationsIntegrationTests} on embedded MariaDB. */
class MariaDbConcurrentMigrationsIntegrationTests extends ConcurrentMigrationsIntegrationTests {

    MariaDbConcurrentMigrationsIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
