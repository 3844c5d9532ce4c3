package dev.txoutbox.it.consumers;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.RunsOnMySql;
import dev.txoutbox.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link DeduplicatorPerConsumerIntegrationTests} on MySQL, where there is a server ({@link RunsOnMySql}). */
@RunsOnMySql
class MySqlDeduplicatorPerConsumerIntegrationTests extends DeduplicatorPerConsumerIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("customers", 2);

    @DynamicPropertySource
    static void mySql(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.MYSQL, TOPIC);
    }
}
