package dev.txoutbox.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.sample.order.OrderService;
import dev.txoutbox.sample.order.OrderSnapshot;
import dev.txoutbox.sample.order.PlaceOrder;
import dev.txoutbox.test.AutoConfigureOutboxTest;
import dev.txoutbox.test.OutboxDrain;
import dev.txoutbox.test.WrittenEvents;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The sample against the server builds that docker-compose.yml runs, in containers that {@code @ServiceConnection}
 * connects: an order placed is written, published and reaches the read model. Runs where a Docker engine is available
 * and is skipped elsewhere.
 */
@SpringBootTest(properties = "spring.main.banner-mode=off")
@AutoConfigureOutboxTest
@Testcontainers(disabledWithoutDocker = true)
class ContainerizedSampleTests {

    @Container
    @ServiceConnection
    static final PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17");

    @Container
    @ServiceConnection
    static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.2");

    @Autowired
    private OrderService orders;

    @Autowired
    private JdbcClient jdbc;

    @Autowired
    private WrittenEvents writtenEvents;

    @Autowired
    private OutboxDrain outboxDrain;

    @Test
    void placedOrderIsPublishedAndReachesTheReadModel() {
        OrderSnapshot placed = this.orders.placeOrder(new PlaceOrder("alice", "keyboard", 1));

        this.outboxDrain.awaitDrained(Duration.ofSeconds(60));

        assertThat(this.writtenEvents.single("orders"))
                .hasKey(Long.toString(placed.id()))
                .hasType("OrderPlaced")
                .payload(OrderSnapshot.class)
                .isEqualTo(placed);
        await().atMost(Duration.ofSeconds(60))
                .until(() -> this.jdbc
                                .sql("SELECT count(*) FROM order_view WHERE id = ?")
                                .param(placed.id())
                                .query(Long.class)
                                .single()
                        == 1);
    }
}
