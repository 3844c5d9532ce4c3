package dev.txoutbox.store;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link DeadLettersIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlDeadLettersIntegrationTests extends DeadLettersIntegrationTests {

    MySqlDeadLettersIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
