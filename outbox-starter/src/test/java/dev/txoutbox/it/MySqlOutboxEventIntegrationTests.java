package dev.txoutbox.it;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link OutboxEventIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlOutboxEventIntegrationTests extends OutboxEventIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("invoices", 2);

    private static final String AUDIT_TOPIC = EmbeddedInfrastructure.newTopic("audit", 1);

    @DynamicPropertySource
    static void mySql(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.MYSQL, TOPIC, AUDIT_TOPIC);
    }
}
