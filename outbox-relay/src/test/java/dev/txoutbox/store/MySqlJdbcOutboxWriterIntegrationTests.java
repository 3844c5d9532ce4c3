package dev.txoutbox.store;

import dev.txoutbox.testing.TestDatabase;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link JdbcOutboxWriterIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlJdbcOutboxWriterIntegrationTests extends JdbcOutboxWriterIntegrationTests {

    MySqlJdbcOutboxWriterIntegrationTests() {
        super(TestDatabase.MYSQL);
    }
}
