package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link BrokerOutageTests} on embedded MariaDB. */
class MariaDbBrokerOutageTests extends BrokerOutageTests {

    MariaDbBrokerOutageTests() {
        super(TestDatabase.MARIADB);
    }
}
