package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFailureRecordingTests} on embedded PostgreSQL. */
class PostgresRelayFailureRecordingTests extends RelayFailureRecordingTests {

    PostgresRelayFailureRecordingTests() {
        super(TestDatabase.POSTGRESQL);
    }
}
