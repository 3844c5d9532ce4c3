package dev.txoutbox.it;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link OutboxEventIntegrationTests} on embedded PostgreSQL. */
class PostgresOutboxEventIntegrationTests extends OutboxEventIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("invoices", 2);

    private static final String AUDIT_TOPIC = EmbeddedInfrastructure.newTopic("audit", 1);

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.POSTGRESQL, TOPIC, AUDIT_TOPIC);
    }
}
