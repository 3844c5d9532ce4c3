package dev.txoutbox.example;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.ConnectionPoolerCheck;
import dev.txoutbox.store.JdbcOutboxWriter;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An order service without Spring Boot: it writes each order and its event in one JDBC transaction, and runs the
 * relay that publishes the events to Kafka until the JVM is asked to stop (Ctrl-C, SIGTERM).
 *
 * <p>Arguments: the JDBC URL (user and password in it, or in the pool's settings) and Kafka's bootstrap servers, else
 * the environment variables {@code JDBC_URL} and {@code KAFKA_BOOTSTRAP_SERVERS}.
 */
public final class BootFreeOutboxExample {

    private static final Logger log = LoggerFactory.getLogger(BootFreeOutboxExample.class);

    private static final String TOPIC = "orders";

    private final HikariDataSource dataSource;

    private final JdbcOutboxWriter outbox;

    private final KafkaRecordPublisher publisher;

    private final OutboxRelay relay;

    private final CountDownLatch stopped = new CountDownLatch(1);

    public static void main(String[] args) throws SQLException, InterruptedException {
        String jdbcUrl = args.length > 0 ? args[0] : System.getenv("JDBC_URL");
        String bootstrapServers = args.length > 1 ? args[1] : System.getenv("KAFKA_BOOTSTRAP_SERVERS");
        if (jdbcUrl == null || bootstrapServers == null) {
            System.err.println("Usage: BootFreeOutboxExample <jdbc-url> <kafka-bootstrap-servers>,"
                    + " or set JDBC_URL and KAFKA_BOOTSTRAP_SERVERS");
            System.exit(2);
        }
        BootFreeOutboxExample service = new BootFreeOutboxExample(jdbcUrl, bootstrapServers);
        // The relay's threads are daemons, which never keep a JVM alive: main waits in run() until this hook, run
        // when the JVM is asked to stop, has stopped the relay, so that its last cycle commits before the JVM exits.
        Runtime.getRuntime().addShutdownHook(new Thread(service::stop, "shutdown"));
        service.run();
    }

    BootFreeOutboxExample(String jdbcUrl, String bootstrapServers) {
        this.dataSource = new HikariDataSource();
        this.dataSource.setJdbcUrl(jdbcUrl);
        OutboxDialect dialect = OutboxDialects.detect(this.dataSource);
        // Behind a pooler in transaction mode (PgBouncer), stops here unless the driver's prepared statements are off.
        ConnectionPoolerCheck.verify(this.dataSource);
        // The factory checks that the tables named after it (dead letters, processed ids) have valid names too.
        TableName table = TableName.outboxTable(TableName.DEFAULT);
        // Creates or updates the outbox tables; their own schema history keeps them apart from the application's.
        OutboxMigrations.migrate(
                this.dataSource, dialect, table, new TableName(OutboxMigrations.DEFAULT_HISTORY_TABLE));
        OutboxStore store = new OutboxStore(this.dataSource, dialect, table);
        RelaySettings settings = RelaySettings.defaults();
        this.publisher = KafkaRecordPublisher.create(Map.of("bootstrap.servers", bootstrapServers), settings);
        // Refuses, while the transaction can still fail, an event larger than the relay's producer can send.
        this.outbox = JdbcOutboxWriter.forProducer(store, this.publisher.producerConfiguration());
        this.relay = new OutboxRelay(store, this.publisher, settings);
    }

    /** Starts the relay, places two orders, and returns once {@link #stop()} has stopped everything. */
    void run() throws SQLException, InterruptedException {
        try (Connection connection = this.dataSource.getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, quantity int NOT NULL)");
        }
        this.relay.start();
        try {
            placeOrder("order-1", 1_000);
        } catch (IllegalArgumentException ex) {
            log.warn("Order refused, and its event rolled back with it: {}", ex.getMessage());
        }
        UUID eventId = placeOrder("order-2", 2);
        log.info("Order order-2 placed, its event {} is on its way to topic '{}'", eventId, TOPIC);
        this.stopped.await();
        log.info("Stopped");
    }

    /** Writes an order and its event in one transaction: both are committed, or neither. */
    UUID placeOrder(String orderId, int quantity) throws SQLException {
        UUID eventId;
        try (Connection connection = this.dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                try (PreparedStatement insert =
                        connection.prepareStatement("INSERT INTO orders (id, quantity) VALUES (?, ?)")) {
                    insert.setString(1, orderId);
                    insert.setInt(2, quantity);
                    insert.executeUpdate();
                }
                String json = "{\"orderId\":\"%s\",\"quantity\":%d}".formatted(orderId, quantity);
                eventId = this.outbox.write(
                        connection, TOPIC, orderId, "OrderPlaced", json.getBytes(StandardCharsets.UTF_8));
                if (quantity > 100) {
                    // A failure after the event was written: the rollback takes back the order and its event.
                    throw new IllegalArgumentException(
                            "order %s asks for %d items, more than the 100 in stock".formatted(orderId, quantity));
                }
                connection.commit();
            } catch (SQLException | RuntimeException ex) {
                try {
                    connection.rollback();
                } catch (SQLException rollbackFailure) {
                    ex.addSuppressed(rollbackFailure); // the first failure is the one that explains
                }
                throw ex;
            }
        }
        // Publishes the event now rather than at the relay's next poll.
        this.relay.wakeUp();
        return eventId;
    }

    /**
     * Stops the relay (its cycles in flight get their acknowledgements and commit), then its producer, then the
     * pool, and lets {@link #run()} return.
     */
    void stop() {
        this.relay.stop();
        this.publisher.close();
        this.dataSource.close();
        this.stopped.countDown();
    }
}
