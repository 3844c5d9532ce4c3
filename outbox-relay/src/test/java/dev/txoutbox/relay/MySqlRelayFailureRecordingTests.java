package dev.txoutbox.relay;

import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;

/** {@link RelayFailureRecordingTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlRelayFailureRecordingTests extends RelayFailureRecordingTests {

    MySqlRelayFailureRecordingTests() {
        super(TestDatabase.MYSQL);
    }
}
