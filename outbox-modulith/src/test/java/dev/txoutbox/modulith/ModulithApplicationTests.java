package dev.txoutbox.modulith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.modulith.shop.ShopApplication;
import dev.txoutbox.modulith.shop.inventory.StockReserved;
import dev.txoutbox.modulith.shop.orders.OrderService;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.event.EventListener;
import org.springframework.modulith.core.ApplicationModules;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A Spring Modulith application with two modules on embedded PostgreSQL and Kafka: its {@code @Externalized} events
 * reach Kafka through the outbox, in the transactions that publish them, and no other event does.
 */
@SpringBootTest(classes = {ShopApplication.class, ModulithApplicationTests.Topics.class})
class ModulithApplicationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("shop.orders", 2);

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        registry.add("spring.datasource.url", EmbeddedInfrastructure::newDatabaseUrl);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add("spring.modulith.events.jdbc.schema-initialization.enabled", () -> "true");
    }

    @Autowired
    private OrderService orders;

    @Autowired
    private OutboxStore outbox;

    @Autowired
    private PublishedRecords published;

    private TopicReader topic;

    @BeforeEach
    void readTopic() {
        this.topic = new TopicReader(TOPIC);
    }

    @AfterEach
    void closeReader() {
        this.topic.close();
    }

    @Test
    void theApplicationHasTwoModulesThatKeepTheirBoundaries() {
        // The application lives under src/test, which Modulith leaves out of its analysis by default.
        ApplicationModules modules = ApplicationModules.of(ShopApplication.class, location -> true);
        modules.verify();
        assertThat(modules.stream().map(module -> module.getIdentifier().toString()))
                .containsExactlyInAnyOrder("orders", "inventory");
    }

    @Test
    void anExternalizedEventArrivesInKafkaWithItsRoutedTopicAndKeyAndTheOutboxHeaders() {
        this.orders.placeOrder("order-1", "customer-7");

        ConsumerRecord<String, byte[]> record =
                this.topic.awaitRecord(candidate -> "customer-7".equals(candidate.key()), TIMEOUT);
        assertThat(record.topic()).isEqualTo(TOPIC);
        assertThat(new String(record.value(), StandardCharsets.UTF_8))
                .isEqualTo("{\"orderId\":\"order-1\",\"customerId\":\"customer-7\"}");
        assertThat(OutboxHeaders.eventId(record)).isNotNull();
        assertThat(header(record, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderPlaced");
    }

    @Test
    void eventsThatAreNotExternalizedAreNotWritten() {
        this.published.records.clear();

        this.orders.placeOrder("order-2", "customer-8");

        await().atMost(TIMEOUT)
                .until(() -> this.published.records.stream().anyMatch(record -> "customer-8".equals(record.key())));
        await().atMost(TIMEOUT).until(() -> this.outbox.count() == 0);
        assertThat(this.published.stockReserved)
                .as("the inventory module published its event")
                .contains("order-2");
        assertThat(this.published.records)
                .as("OrderNoted of the orders module and StockReserved of the inventory module stay inside")
                .extracting(OutboxRecord::eventType)
                .containsOnly("OrderPlaced");
    }

    @Test
    void aRollbackWritesNothing() {
        assertThatExceptionOfType(IllegalStateException.class)
                .isThrownBy(() -> this.orders.placeOrderAndFail("order-3", "customer-9"))
                .withMessage("payment declined for order order-3");
        this.orders.placeOrder("order-4", "customer-9");

        // Records of one key arrive in commit order: had the rolled-back order been written, it would come first.
        this.topic.awaitRecord(candidate -> "customer-9".equals(candidate.key()), TIMEOUT);
        assertThat(this.topic.awaitRecords(0, TIMEOUT))
                .filteredOn(candidate -> "customer-9".equals(candidate.key()))
                .extracting(candidate -> new String(candidate.value(), StandardCharsets.UTF_8))
                .containsExactly("{\"orderId\":\"order-4\",\"customerId\":\"customer-9\"}");
    }

    @Test
    void anEventPublishedWithoutATransactionFailsWithTheOutboxsMessage() {
        assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> this.orders.placeOrderWithoutTransaction("order-5", "customer-10"))
                .withMessageContaining("needs an active transaction, and there is none");
        assertThat(this.outbox.count()).isZero();
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    /** The topic the orders module routes its events to, the records the relay published and the inventory's events. */
    @TestConfiguration(proxyBeanMethods = false)
    static class Topics {

        @Bean
        ShopTopics shopTopics() {
            return new ShopTopics(TOPIC);
        }

        @Bean
        PublishedRecords publishedRecords() {
            return new PublishedRecords();
        }
    }

    /** Topic names, referred to by the events' routing. */
    record ShopTopics(String orders) {}

    static final class PublishedRecords implements OutboxRelayListener {

        final Queue<OutboxRecord> records = new ConcurrentLinkedQueue<>();

        final Queue<String> stockReserved = new ConcurrentLinkedQueue<>();

        @EventListener
        void on(StockReserved event) {
            this.stockReserved.add(event.orderId());
        }

        @Override
        public void published(OutboxRecord record, Instant acknowledgedAt) {
            this.records.add(record);
        }
    }
}
