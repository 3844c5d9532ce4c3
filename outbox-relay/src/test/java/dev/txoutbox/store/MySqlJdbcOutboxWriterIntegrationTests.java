package dev.txoutbox.store;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link JdbcOutboxWriterIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlJdbcOutboxWriterIntegrationTests extends JdbcOutboxWriterIntegrationTests {

    MySqlJdbcOutboxWriterIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
