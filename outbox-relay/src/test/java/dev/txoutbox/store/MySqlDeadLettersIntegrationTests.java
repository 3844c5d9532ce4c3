package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link DeadLettersIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlDeadLettersIntegrationTests extends DeadLettersIntegrationTests {

    MySqlDeadLettersIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
