package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link RelayRecoveryTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlRelayRecoveryTests extends RelayRecoveryTests {

    MySqlRelayRecoveryTests() {
        super(TestDatabase.MYSQL);
    }
}
