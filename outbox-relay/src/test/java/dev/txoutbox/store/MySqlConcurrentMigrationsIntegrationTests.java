package dev.txoutbox.store;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link ConcurrentMigrationsIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlConcurrentMigrationsIntegrationTests extends ConcurrentMigrationsIntegrationTests {

    MySqlConcurrentMigrationsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
