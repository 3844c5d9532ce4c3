package dev.txoutbox.store;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxStoreIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlOutboxStoreIntegrationTests extends OutboxStoreIntegrationTests {

    MySqlOutboxStoreIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
