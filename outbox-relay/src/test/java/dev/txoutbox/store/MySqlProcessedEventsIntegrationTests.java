package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link ProcessedEventsIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlProcessedEventsIntegrationTests extends ProcessedEventsIntegrationTests {

    MySqlProcessedEventsIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
