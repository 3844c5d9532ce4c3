package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link ConcurrentMigrationsIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlConcurrentMigrationsIntegrationTests extends ConcurrentMigrationsIntegrationTests {

    MySqlConcurrentMigrationsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
