package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link CycleBoundsIntegrationTests} on embedded PostgreSQL. */
class PostgresCycleBoundsIntegrationTests extends CycleBoundsIntegrationTests {

    PostgresCycleBoundsIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
