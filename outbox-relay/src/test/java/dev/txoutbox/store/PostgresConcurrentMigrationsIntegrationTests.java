package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link ConcurrentMigrationsIntegrationTests} on embedded PostgreSQL. */
class PostgresConcurrentMigrationsIntegrationTests extends ConcurrentMigrationsIntegrationTests {

    PostgresConcurrentMigrationsIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
