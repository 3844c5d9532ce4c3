package dev.txoutbox.sample;

import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.time.Duration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.http.HttpStatusCode;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/**
 * The whole sample on the embedded PostgreSQL server and Kafka broker, in a database and on a topic of its own. Test
 * classes that extend it share one running application, so that the suite starts it once. The outbox test kit shows
 * what each test wrote to the outbox ({@code WrittenEvents}) and waits until the relay has published it
 * ({@code OutboxDrain}).
 */
@AutoConfigureOutboxTest
@SpringBootTest(
        webEnvironment = WebEnvironment.RANDOM_PORT,
        properties = {"spring.main.banner-mode=off", "logging.level.dev.txoutbox=WARN"})
public abstract class SampleIntegrationTest {

    /** The topic of the order events; the application creates it, as it would in production. */
    protected static final String ORDERS_TOPIC = "sample-orders-tests";

    /** How long a test waits for the relay and the consumer. */
    protected static final Duration PATIENCE = Duration.ofSeconds(30);

    // Resolved once: the registry asks its suppliers again on every read, and each call creates a database.
    private static final String DATABASE_URL = EmbeddedInfrastructure.newDatabaseUrl();

    /** A client for the running application that returns error responses instead of throwing. */
    protected static RestClient httpClient(int port) {
        return RestClient.builder()
                .baseUrl("http://localhost:" + port)
                .defaultStatusHandler(HttpStatusCode::isError, (request, response) -> {})
                .build();
    }

    @DynamicPropertySource
    static void embeddedServers(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", () -> DATABASE_URL);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.datasource.password", () -> "");
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add("sample.orders-topic", () -> ORDERS_TOPIC);
    }
}
