package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link RelayFaultTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlRelayFaultTests extends RelayFaultTests {

    MySqlRelayFaultTests() {
        super(TestDatabase.MYSQL);
    }
}
