package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link BrokerOutageTests} on embedded PostgreSQL. */
class PostgresBrokerOutageTests extends BrokerOutageTests {

    PostgresBrokerOutageTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
