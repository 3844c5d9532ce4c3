package dev.txoutbox.store;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link ProcessedEventsIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlProcessedEventsIntegrationTests extends ProcessedEventsIntegrationTests {

    MySqlProcessedEventsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
