package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link OutboxRelayIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlOutboxRelayIntegrationTests extends OutboxRelayIntegrationTests {

    MySqlOutboxRelayIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
