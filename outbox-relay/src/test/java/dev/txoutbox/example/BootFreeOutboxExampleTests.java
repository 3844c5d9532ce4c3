package dev.txoutbox.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxHeaders;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The Boot-free example of docs/relay.md runs as documented against a real PostgreSQL and a real Kafka broker: the
 * event of the committed order is published with its id, the event of the rolled-back order never exists, and the
 * program returns once it was stopped as its shutdown hook stops it.
 */
class BootFreeOutboxExampleTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final String TOPIC = "orders";

    /** The relay's last log line, which its shutdown hook makes it write. */
    private static final Pattern STOPPED = Pattern.compile("Outbox relay outbox-relay-\\d+ stopped\\n");

    @Test
    void theCommittedOrdersEventIsPublishedTheRolledBackOnesNeverExistsAndRunReturnsAfterStop() throws Exception {
        createTopic();
        String jdbcUrl = EmbeddedInfrastructure.newDatabaseUrl();
        BootFreeOutboxExample example =
                new BootFreeOutboxExample(jdbcUrl, EmbeddedInfrastructure.kafkaBootstrapServers());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread main = new Thread(
                () -> {
                    try {
                        example.run();
                    } catch (Throwable ex) {
                        failure.set(ex);
                    }
                },
                "example-main");
        try (HikariDataSource database = EmbeddedInfrastructure.dataSource(jdbcUrl, "example-check");
                TopicReader reader = new TopicReader(TOPIC)) {
            // The topic is the example's own, shared with the other test: only records after its current end count.
            long start = reader.endOffsetTotal();
            main.start();
            JdbcClient jdbc = JdbcClient.create(database);

            // The refused order was written first: had its event been committed, it would be read before this one.
            ConsumerRecord<String, byte[]> placed =
                    reader.awaitRecord(record -> record.offset() >= start && "order-2".equals(record.key()), TIMEOUT);
            assertThat(new String(placed.value(), StandardCharsets.UTF_8))
                    .isEqualTo("{\"orderId\":\"order-2\",\"quantity\":2}");
            assertThat(UUID.fromString(header(placed, OutboxHeaders.EVENT_ID)).version())
                    .isEqualTo(7);
            assertThat(header(placed, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderPlaced");
            assertThat(reader.awaitRecords(1, TIMEOUT).stream().filter(record -> record.offset() >= start))
                    .as("the records of the topic")
                    .extracting(ConsumerRecord::key)
                    .containsExactly("order-2");
            assertThat(reader.endOffsetTotal()).isEqualTo(start + 1);

            UUID third = example.placeOrder("order-3", 1);
            ConsumerRecord<String, byte[]> thirdRecord =
                    reader.awaitRecord(record -> record.offset() >= start && "order-3".equals(record.key()), TIMEOUT);
            assertThat(header(thirdRecord, OutboxHeaders.EVENT_ID)).isEqualTo(third.toString());

            assertThat(jdbc.sql("SELECT id FROM orders ORDER BY id")
                            .query(String.class)
                            .list())
                    .as("the business rows")
                    .containsExactly("order-2", "order-3");
            await().atMost(TIMEOUT)
                    .untilAsserted(() -> assertThat(jdbc.sql("SELECT count(*) FROM outbox_event")
                                    .query(Long.class)
                                    .single())
                            .as("outbox rows left")
                            .isZero());
            assertThat(jdbc.sql("SELECT count(*) FROM outbox_event_dead_letter")
                            .query(Long.class)
                            .single())
                    .isZero();
            assertThat(reader.endOffsetTotal()).as("records published in all").isEqualTo(start + 2);
            assertThat(main.isAlive()).as("run() waits for the stop").isTrue();

            example.stop();

            main.join(TIMEOUT.toMillis());
            assertThat(main.isAlive()).as("run() returned after the stop").isFalse();
            assertThat(failure.get()).isNull();
        } finally {
            if (main.isAlive()) {
                example.stop();
            }
        }
    }

    @Test
    void mainKeepsTheJvmAliveUntilItIsAskedToStopAndThenStopsTheRelayBeforeTheJvmExits() throws Exception {
        createTopic();
        String jdbcUrl = EmbeddedInfrastructure.newDatabaseUrl();
        Path output = Path.of("target", "example-processes", "main.log").toAbsolutePath();
        Files.createDirectories(output.getParent());
        List<String> command = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m"));
        // The build names the test logging configuration; a run from an IDE may not, and then none is passed on.
        String logging = System.getProperty("logback.configurationFile");
        if (logging != null) {
            command.add("-Dlogback.configurationFile=" + logging);
        }
        command.addAll(List.of(
                "-cp",
                System.getProperty("java.class.path"),
                BootFreeOutboxExample.class.getName(),
                jdbcUrl,
                EmbeddedInfrastructure.kafkaBootstrapServers()));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try (HikariDataSource database = EmbeddedInfrastructure.dataSource(jdbcUrl, "example-check")) {
            JdbcClient jdbc = JdbcClient.create(database);
            await().atMost(TIMEOUT)
                    .failFast("the program exited: " + output, () -> !process.isAlive())
                    .until(() -> Files.readString(output).contains("Order order-2 placed")
                            && jdbc.sql("SELECT count(*) FROM outbox_event")
                                            .query(Long.class)
                                            .single()
                                    == 0);
            // Had main returned, the JVM would be running its shutdown hook: with the table empty, no cycle has
            // anything in flight, so the relay would stop and log it within a second, and the process would end once
            // the producer is closed. Holding for seconds tells a waiting main from a JVM on its way out.
            await("the program runs on, its relay not stopped")
                    .during(Duration.ofSeconds(5))
                    .atMost(TIMEOUT)
                    .until(() -> process.isAlive()
                            && !STOPPED.matcher(Files.readString(output)).find());

            process.destroy(); // SIGTERM, as Ctrl-C, a container's stop or systemd send

            assertThat(process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                    .as("the program exited")
                    .isTrue();
            assertThat(Files.readString(output))
                    .as("what the program logged, in %s", output)
                    .containsPattern(STOPPED)
                    .doesNotContain("ERROR");
        } finally {
            process.destroyForcibly();
        }
    }

    private static void createTopic() {
        if (!EmbeddedInfrastructure.kafka().getTopics().contains(TOPIC)) {
            EmbeddedInfrastructure.kafka().addTopics(new NewTopic(TOPIC, 1, (short) 1));
        }
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
