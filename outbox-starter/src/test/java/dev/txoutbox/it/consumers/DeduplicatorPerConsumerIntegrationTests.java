package dev.txoutbox.it.consumers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two listeners of one topic in different consumer groups, in one application on one database (a read model and a
 * notifier, say): each processes every event once, and each skips a redelivered event on its own. In a package of
 * its own, so that its application is not found by the tests that look for one in {@code dev.txoutbox.it}. A
 * subclass per database names the database and the topic.
 */
@SpringBootTest(classes = DeduplicatorPerConsumerIntegrationTests.Application.class)
abstract class DeduplicatorPerConsumerIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final List<String> CONSUMERS = List.of("read-model", "notifier");

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        registry.add("spring.kafka.bootstrap-servers", EmbeddedInfrastructure::kafkaBootstrapServers);
        registry.add("spring.kafka.consumer.auto-offset-reset", () -> "earliest");
    }

    /**
     * The database of a subclass, and its topic: made once per subclass, and so are the consumer groups, named after
     * it, since the application contexts of the subclasses all stay up until the tests end.
     */
    static void database(DynamicPropertyRegistry registry, TestDatabase database, String topic) {
        registry.add("spring.datasource.url", database::newDatabaseUrl);
        registry.add("spring.datasource.username", database::username);
        registry.add("spring.datasource.password", database::password);
        registry.add("test.topic", () -> topic);
    }

    @Value("${test.topic}")
    private String topic;

    @Autowired
    private Outbox outbox;

    @Autowired
    private TransactionTemplate transactions;

    @Autowired
    private KafkaTemplate<String, String> kafka;

    @Autowired
    private JdbcClient jdbc;

    @Autowired
    private Listeners listeners;

    @Test
    void listenersInTwoConsumerGroupsEachProcessEveryEventOnceAndEachSkipARedelivery() throws Exception {
        int events = 10;
        for (int i = 0; i < events; i++) {
            String key = "customer-" + (i % 3);
            this.transactions.executeWithoutResult(status -> this.outbox.write(this.topic, key, "{}"));
        }
        ConsumerRecord<String, byte[]> published;
        try (TopicReader reader = new TopicReader(this.topic)) {
            published = reader.awaitRecords(events, TIMEOUT).get(0);
        }
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(this.listeners.deliveries())
                        .containsExactlyInAnyOrderEntriesOf(Map.of("read-model", events, "notifier", events)));

        // A copy of an event that was published before, as a relay that lost its claim after sending would publish.
        ProducerRecord<String, String> copy =
                new ProducerRecord<>(this.topic, published.partition(), published.key(), "{}");
        published.headers().forEach(copy.headers()::add);
        this.kafka.send(copy).get();

        // A delivery is counted as it begins: wait until each listener is done with the copy.
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(this.listeners.skipped())
                        .as("each listener skipped the copy")
                        .containsExactlyInAnyOrderEntriesOf(Map.of("read-model", 1, "notifier", 1)));
        assertThat(this.listeners.deliveries())
                .as("each listener got the copy too")
                .containsExactlyInAnyOrderEntriesOf(Map.of("read-model", events + 1, "notifier", events + 1));
        for (String consumer : CONSUMERS) {
            List<UUID> processed = this.jdbc
                    .sql("SELECT event_id FROM consumer_effects WHERE consumer = ?")
                    .param(consumer)
                    .query((rs, row) -> UUID.fromString(rs.getString(1)))
                    .list();
            assertThat(processed)
                    .as("the events %s processed, each once", consumer)
                    .hasSize(events)
                    .doesNotHaveDuplicates();
        }
    }

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(Listeners.class)
    static class Application {}

    /** Each listener keeps its own effects, in a table of the application's database. */
    static class Listeners {

        private final Deduplicator deduplicator;

        private final JdbcClient jdbc;

        private final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

        private final Map<String, AtomicInteger> skipped = new ConcurrentHashMap<>();

        Listeners(Deduplicator deduplicator, JdbcClient jdbc) {
            this.deduplicator = deduplicator;
            this.jdbc = jdbc;
            jdbc.sql("CREATE TABLE IF NOT EXISTS consumer_effects (consumer varchar(20) NOT NULL, event_id char(36) NOT"
                            + " NULL)")
                    .update();
        }

        @KafkaListener(topics = "${test.topic}", groupId = "read-model-${test.topic}")
        @Transactional
        public void readModel(ConsumerRecord<String, String> record) {
            process("read-model", record);
        }

        @KafkaListener(topics = "${test.topic}", groupId = "notifier-${test.topic}")
        @Transactional
        public void notifier(ConsumerRecord<String, String> record) {
            process("notifier", record);
        }

        private void process(String consumer, ConsumerRecord<String, String> record) {
            this.deliveries
                    .computeIfAbsent(consumer, name -> new AtomicInteger())
                    .incrementAndGet();
            if (!this.deduplicator.firstDelivery(record)) {
                this.skipped
                        .computeIfAbsent(consumer, name -> new AtomicInteger())
                        .incrementAndGet();
                return;
            }
            this.jdbc
                    .sql("INSERT INTO consumer_effects (consumer, event_id) VALUES (?, ?)")
                    .params(consumer, OutboxHeaders.eventId(record).toString())
                    .update();
        }

        Map<String, Integer> deliveries() {
            return snapshot(this.deliveries);
        }

        Map<String, Integer> skipped() {
            return snapshot(this.skipped);
        }

        private static Map<String, Integer> snapshot(Map<String, AtomicInteger> counts) {
            Map<String, Integer> snapshot = new HashMap<>();
            counts.forEach((consumer, count) -> snapshot.put(consumer, count.get()));
            return snapshot;
        }
    }
}
