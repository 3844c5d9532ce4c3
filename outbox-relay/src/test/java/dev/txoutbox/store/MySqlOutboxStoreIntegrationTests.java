package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link OutboxStoreIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlOutboxStoreIntegrationTests extends OutboxStoreIntegrationTests {

    MySqlOutboxStoreIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
