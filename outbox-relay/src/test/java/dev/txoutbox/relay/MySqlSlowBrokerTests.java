package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link SlowBrokerTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlSlowBrokerTests extends SlowBrokerTests {

    MySqlSlowBrokerTests() {
        super(TestDatabase.MYSQL);
    }
}
