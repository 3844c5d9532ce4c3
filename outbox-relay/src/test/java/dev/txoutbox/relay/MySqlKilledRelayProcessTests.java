package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link KilledRelayProcessTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlKilledRelayProcessTests extends KilledRelayProcessTests {

    MySqlKilledRelayProcessTests() {
        super(TestDatabase.MYSQL);
    }
}
