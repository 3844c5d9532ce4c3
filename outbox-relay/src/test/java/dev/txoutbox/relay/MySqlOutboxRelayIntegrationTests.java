package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link OutboxRelayIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlOutboxRelayIntegrationTests extends OutboxRelayIntegrationTests {

    MySqlOutboxRelayIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
