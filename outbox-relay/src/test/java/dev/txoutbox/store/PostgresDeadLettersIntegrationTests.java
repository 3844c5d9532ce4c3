package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link DeadLettersIntegrationTests} on embedded PostgreSQL. */
class PostgresDeadLettersIntegrationTests extends DeadLettersIntegrationTests {

    PostgresDeadLettersIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
