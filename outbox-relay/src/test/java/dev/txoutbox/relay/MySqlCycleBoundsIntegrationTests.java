package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link CycleBoundsIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlCycleBoundsIntegrationTests extends CycleBoundsIntegrationTests {

    MySqlCycleBoundsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
