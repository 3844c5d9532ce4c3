package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;

/** {@link DeadLettersIntegrationTests} on embedded MariaDB. */
class MariaDbDeadLettersIntegrationTests extends DeadLettersIntegrationTests {

    MariaDbDeadLettersIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
