package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link BrokerOutageTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlBrokerOutageTests extends BrokerOutageTests {

    MySqlBrokerOutageTests() {
        super(TestDatabase.MYSQL);
    }
}
