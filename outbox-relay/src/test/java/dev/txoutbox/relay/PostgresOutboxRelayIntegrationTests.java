package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxRelayIntegrationTests} on embedded PostgreSQL. */
class PostgresOutboxRelayIntegrationTests extends OutboxRelayIntegrationTests {

    PostgresOutboxRelayIntegrationTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
