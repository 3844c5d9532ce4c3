package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link CycleStoreIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlCycleStoreIntegrationTests extends CycleStoreIntegrationTests {

    MySqlCycleStoreIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
