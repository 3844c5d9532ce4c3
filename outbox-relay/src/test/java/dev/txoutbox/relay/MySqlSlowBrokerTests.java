package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link SlowBrokerTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlSlowBrokerTests extends SlowBrokerTests {

    MySqlSlowBrokerTests() {
        super(TestDatabase.MYSQL);
    }
}
