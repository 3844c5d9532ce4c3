package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link CycleStoreIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlCycleStoreIntegrationTests extends CycleStoreIntegrationTests {

    MySqlCycleStoreIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
