package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link CycleBoundsIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlCycleBoundsIntegrationTests extends CycleBoundsIntegrationTests {

    MySqlCycleBoundsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
