package dev.txoutbox.it.consumers;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.junit.jupiter.Testcontainers;

/** {@link DeduplicatorPerConsumerIntegrationTests} on MySQL in a container, where Docker runs. */
@Testcontainers(disabledWithoutDocker = true)
class MySqlDeduplicatorPerConsumerIntegrationTests extends DeduplicatorPerConsumerIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("customers", 2);

    @DynamicPropertySource
    static void mySql(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.MYSQL, TOPIC);
    }
}
