package dev.txoutbox.it.consumers;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link DeduplicatorPerConsumerIntegrationTests} on embedded PostgreSQL. */
class PostgresDeduplicatorPerConsumerIntegrationTests extends DeduplicatorPerConsumerIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("customers", 2);

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.POSTGRESQL, TOPIC);
    }
}
