package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFaultTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlRelayFaultTests extends RelayFaultTests {

    MySqlRelayFaultTests() {
        super(TestDatabase.MYSQL);
    }
}
