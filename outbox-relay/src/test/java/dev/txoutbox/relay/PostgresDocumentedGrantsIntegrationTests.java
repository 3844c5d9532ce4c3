package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link DocumentedGrantsIntegrationTests} on PostgreSQL. */
class PostgresDocumentedGrantsIntegrationTests extends DocumentedGrantsIntegrationTests {

    PostgresDocumentedGrantsIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
