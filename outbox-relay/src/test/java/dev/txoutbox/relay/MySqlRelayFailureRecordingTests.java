package dev.txoutbox.relay;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link RelayFailureRecordingTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlRelayFailureRecordingTests extends RelayFailureRecordingTests {

    MySqlRelayFailureRecordingTests() {
        super(TestDatabase.MYSQL);
    }
}
