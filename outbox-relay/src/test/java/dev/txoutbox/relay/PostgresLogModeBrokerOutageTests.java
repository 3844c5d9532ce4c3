package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/**
 * {@link BrokerOutageTests} on embedded PostgreSQL with every relay in log mode, reading the write-ahead log (one reads, the
 * others wait as standbys), and writers that take no key lock.
 */
class PostgresLogModeBrokerOutageTests extends BrokerOutageTests {

    PostgresLogModeBrokerOutageTests() {
        super(TestDatabase.POSTGRESQL, RelayMode.LOG);
    }
}
