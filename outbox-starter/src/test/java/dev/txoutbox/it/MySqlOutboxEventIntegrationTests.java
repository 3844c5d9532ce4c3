package dev.txoutbox.it;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link OutboxEventIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlOutboxEventIntegrationTests extends OutboxEventIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("invoices", 2);

    private static final String AUDIT_TOPIC = EmbeddedInfrastructure.newTopic("audit", 1);

    @DynamicPropertySource
    static void mySql(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.MYSQL, TOPIC, AUDIT_TOPIC);
    }
}
