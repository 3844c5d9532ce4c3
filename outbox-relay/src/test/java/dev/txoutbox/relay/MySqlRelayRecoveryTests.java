package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link RelayRecoveryTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlRelayRecoveryTests extends RelayRecoveryTests {

    MySqlRelayRecoveryTests() {
        super(TestDatabase.MYSQL);
    }
}
