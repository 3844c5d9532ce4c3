package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFailureRecordingTests} on embedded MariaDB. */
class MariaDbRelayFailureRecordingTests extends RelayFailureRecordingTests {

    MariaDbRelayFailureRecordingTests() {
        super(TestDatabase.MARIADB);
    }
}
