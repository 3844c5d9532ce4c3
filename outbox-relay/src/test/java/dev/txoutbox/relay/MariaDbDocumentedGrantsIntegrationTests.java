package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link DocumentedGrantsIntegrationTests} on MariaDB. */
class MariaDbDocumentedGrantsIntegrationTests extends DocumentedGrantsIntegrationTests {

    MariaDbDocumentedGrantsIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
