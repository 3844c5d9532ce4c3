package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxStoreIntegrationTests} on embedded PostgreSQL. */
class PostgresOutboxStoreIntegrationTests extends OutboxStoreIntegrationTests {

    PostgresOutboxStoreIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
