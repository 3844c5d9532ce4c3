package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link KeyHoldBackIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlKeyHoldBackIntegrationTests extends KeyHoldBackIntegrationTests {

    MySqlKeyHoldBackIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
