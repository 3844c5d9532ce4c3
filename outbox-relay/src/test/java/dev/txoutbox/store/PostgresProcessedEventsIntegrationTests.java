package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link ProcessedEventsIntegrationTests} on embedded PostgreSQL. */
class PostgresProcessedEventsIntegrationTests extends ProcessedEventsIntegrationTests {

    PostgresProcessedEventsIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
