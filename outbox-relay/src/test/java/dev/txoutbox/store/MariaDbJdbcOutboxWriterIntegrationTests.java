package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link JdbcOutboxWriterIntegrationTests} on embedded MariaDB. */
class MariaDbJdbcOutboxWriterIntegrationTests extends JdbcOutboxWriterIntegrationTests {

    MariaDbJdbcOutboxWriterIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
