package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link KilledRelayProcessTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlKilledRelayProcessTests extends KilledRelayProcessTests {

    MySqlKilledRelayProcessTests() {
        super(TestDatabase.MYSQL);
    }
}
