package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link CycleStoreIntegrationTests} on embedded PostgreSQL. */
class PostgresCycleStoreIntegrationTests extends CycleStoreIntegrationTests {

    PostgresCycleStoreIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
