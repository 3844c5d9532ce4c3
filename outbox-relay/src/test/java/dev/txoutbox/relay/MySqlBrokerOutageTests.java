package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link BrokerOutageTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlBrokerOutageTests extends BrokerOutageTests {

    MySqlBrokerOutageTests() {
        super(TestDatabase.MYSQL);
    }
}
