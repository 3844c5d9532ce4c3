package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link KeyHoldBackIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlKeyHoldBackIntegrationTests extends KeyHoldBackIntegrationTests {

    MySqlKeyHoldBackIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
