package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link JdbcOutboxWriterIntegrationTests} on embedded PostgreSQL. */
class PostgresJdbcOutboxWriterIntegrationTests extends JdbcOutboxWriterIntegrationTests {

    PostgresJdbcOutboxWriterIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
