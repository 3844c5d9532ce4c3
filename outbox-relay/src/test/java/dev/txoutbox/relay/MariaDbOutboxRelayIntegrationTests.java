package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxRelayIntegrationTests} on embedded MariaDB. */
class MariaDbOutboxRelayIntegrationTests extends OutboxRelayIntegrationTests {

    MariaDbOutboxRelayIntegrationTests() {
        super(TestDatabase.MARIADB);
    }
}
