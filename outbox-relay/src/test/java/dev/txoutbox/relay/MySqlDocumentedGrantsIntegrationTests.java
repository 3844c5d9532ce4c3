package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link DocumentedGrantsIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlDocumentedGrantsIntegrationTests extends DocumentedGrantsIntegrationTests {

    MySqlDocumentedGrantsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
