package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** Writing events in the caller's own JDBC transaction, without Spring's transactions, against each database. */
abstract class JdbcOutboxWriterIntegrationTests {

    private final TestDatabase database;

    private OutboxStore store;

    private JdbcOutboxWriter writer;

    private JdbcClient jdbc;

    JdbcOutboxWriterIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTables() {
        this.store = OutboxTestTables.newStore(this.database);
        this.writer = JdbcOutboxWriter.forProducer(this.store, Map.of());
        this.jdbc = JdbcClient.create(this.store.dataSource());
        this.jdbc.sql("CREATE TABLE orders (id varchar(64) PRIMARY KEY)").update();
    }

    @Test
    void theEventCommitsWithTheBusinessChangeAndRollsBackWithIt() throws SQLException {
        UUID committed;
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            insertOrder(connection, "order-1");
            UUID rolledBack = this.writer.write(connection, "orders", "order-1", "OrderPlaced", json("order-1"));
            assertThat(rolledBack).isNotNull();
            connection.rollback();

            insertOrder(connection, "order-2");
            committed = this.writer.write(connection, "orders", "order-2", "OrderPlaced", json("order-2"));
            assertThat(outboxRows()).as("not visible before the commit").isEmpty();
            connection.commit();
        }

        assertThat(outboxRows()).containsExactly(committed + " order-2 OrderPlaced");
        assertThat(this.jdbc.sql("SELECT id FROM orders").query(String.class).list())
                .containsExactly("order-2");
    }

    @Test
    void writersOfOneKeyOnTwoConnectionsTakeTurnsUntilTheFirstCommits() throws Exception {
        CountDownLatch firstWritten = new CountDownLatch(1);
        CountDownLatch commitFirst = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            Future<UUID> first = executor.submit(() -> inTransaction(connection -> {
                UUID id = this.writer.write(connection, "orders", "order-1", "OrderPlaced", json("first"));
                firstWritten.countDown();
                assertThat(commitFirst.await(30, TimeUnit.SECONDS)).isTrue();
                return id;
            }));
            assertThat(firstWritten.await(30, TimeUnit.SECONDS)).isTrue();
            Future<UUID> second = executor.submit(() -> inTransaction(
                    connection -> this.writer.write(connection, "orders", "order-1", "OrderPaid", json("second"))));
            UUID otherKey = inTransaction(
                    connection -> this.writer.write(connection, "orders", "order-2", "OrderPlaced", json("other")));

            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> this.database.sessionsWaitingForKeyLocks(this.jdbc) == 1);
            assertThat(second.isDone()).as("the second writer of order-1 waits").isFalse();
            assertThat(outboxRows()).as("another key did not wait").containsExactly(otherKey + " order-2 OrderPlaced");

            commitFirst.countDown();
            UUID firstId = first.get(30, TimeUnit.SECONDS);
            UUID secondId = second.get(30, TimeUnit.SECONDS);

            assertThat(this.jdbc
                            .sql("SELECT event_id FROM outbox_event WHERE record_key = 'order-1' ORDER BY id")
                            .query((rs, row) -> UUID.fromString(rs.getString(1)))
                            .list())
                    .as("the key's rows in commit order")
                    .containsExactly(firstId, secondId);
        } finally {
            commitFirst.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a second write that waited would never end
    void eventsWithoutAKeyTakeNoTurnsSoThatOneThreadMayWriteThemInTwoOpenTransactions() throws SQLException {
        try (Connection first = this.store.dataSource().getConnection();
                Connection second = this.store.dataSource().getConnection()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            UUID outer = this.writer.write(first, "audit", null, "Viewed", json("a"));
            UUID inner = this.writer.write(second, "audit", null, "Viewed", json("b"));
            second.commit();
            first.commit();

            assertThat(outboxRows()).containsExactlyInAnyOrder(outer + " Viewed", inner + " Viewed");
        }
    }

    @Test
    void aConnectionInAutocommitModeIsRefusedAndNothingIsWritten() throws SQLException {
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(true);

            assertThatIllegalStateException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", "order-1", "OrderPlaced", json("x")))
                    .withMessageContaining("event 'OrderPlaced' to topic 'orders' into outbox table 'outbox_event'")
                    .withMessageContaining("is in autocommit mode")
                    .withMessageContaining("connection.setAutoCommit(false)");
            assertThatIllegalStateException()
                    .as("the connection is checked before the event")
                    .isThrownBy(() -> this.writer.write(connection, " ", null, " ", null, Map.of()))
                    .withMessageContaining("is in autocommit mode");
        }
        assertThat(outboxRows()).isEmpty();
    }

    @Test
    void aReadOnlyConnectionIsRefusedBeforeTheEventIsChecked() throws SQLException {
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            connection.setReadOnly(true);

            assertThatIllegalStateException()
                    .isThrownBy(() -> this.writer.write(connection, " ", "order-1", "OrderPlaced", json("x")))
                    .withMessageContaining("event 'OrderPlaced' to topic ' ' into outbox table 'outbox_event'")
                    .withMessageContaining("is read-only")
                    .withMessageContaining("setReadOnly(false)");
            connection.rollback();
        }
        assertThat(outboxRows()).isEmpty();
    }

    @Test
    void nullArgumentsAndABlankEventTypeAreRefusedNamingWhatIsMissing() throws SQLException {
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("source", null);
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);

            assertThatNullPointerException()
                    .isThrownBy(() -> this.writer.write(null, "orders", "k", "OrderPlaced", json("x")))
                    .withMessage("connection");
            assertThatNullPointerException()
                    .isThrownBy(() -> this.writer.write(connection, null, "k", "OrderPlaced", json("x")))
                    .withMessage("topic");
            assertThatNullPointerException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", "k", null, json("x")))
                    .withMessage("eventType");
            assertThatNullPointerException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", "k", "OrderPlaced", json("x"), null))
                    .withMessage("headers");
            assertThatNullPointerException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", "k", "OrderPlaced", json("x"), nullValue))
                    .withMessage("the value of header 'source' of event 'OrderPlaced'");
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", "k", " ", json("x")))
                    .withMessage("An event to topic 'orders' has a blank eventType: name the event's type, such as"
                            + " 'OrderPlaced'.");
            connection.commit();
        }
        assertThat(outboxRows()).isEmpty();
    }

    @Test
    void aMissingTableIsReportedWithTheEventTheTableAndHowToCreateIt() throws SQLException {
        OutboxStore missing =
                new OutboxStore(this.store.dataSource(), this.store.dialect(), TableName.outboxTable("no_such_outbox"));
        JdbcOutboxWriter writer = new JdbcOutboxWriter(missing, 1000);
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);

            assertThatExceptionOfType(SQLException.class)
                    .isThrownBy(() -> writer.write(connection, "orders", "order-1", "OrderPlaced", json("x")))
                    .withMessageMatching("(?s)Could not write event [0-9a-f-]{36} \\('OrderPlaced' to topic 'orders'\\)"
                            + " into outbox table 'no_such_outbox': the table does not exist in this database\\..*")
                    .withMessageContaining("OutboxMigrations.migrate(..)")
                    .withMessageContaining("docs/table.md")
                    .withMessageContaining(
                            this.database == TestDatabase.POSTGRESQL
                                    ? "relation \"no_such_outbox\" does not exist"
                                    // The writer's first statement there locks the key, in a table named after it.
                                    : "no_such_outbox_key_lock' doesn't exist")
                    .satisfies(ex -> assertThat(ex.getSQLState())
                            .isEqualTo(this.database == TestDatabase.POSTGRESQL ? "42P01" : "42S02"));
            connection.rollback();
        }
    }

    @Test
    void inASpringTransactionTheEventCommitsAndRollsBackWithItAndOutsideOneItIsRefused() {
        TransactionTemplate transactions =
                new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
        JdbcTemplate business = new JdbcTemplate(this.store.dataSource());

        UUID committed = transactions.execute(status -> {
            business.update("INSERT INTO orders (id) VALUES (?)", "order-1");
            return this.writer.writeInSpringTransaction("orders", "order-1", "OrderPlaced", json("1"), Map.of());
        });
        transactions.executeWithoutResult(status -> {
            business.update("INSERT INTO orders (id) VALUES (?)", "order-2");
            this.writer.writeInSpringTransaction("orders", "order-2", "OrderPlaced", json("2"), Map.of());
            status.setRollbackOnly();
        });
        assertThatIllegalStateException()
                .isThrownBy(() ->
                        this.writer.writeInSpringTransaction("orders", "order-3", "OrderPlaced", json("3"), Map.of()))
                .withMessageContaining("outside a Spring transaction")
                .withMessageContaining("TransactionTemplate.execute(..)");
        transactions.setReadOnly(true);
        assertThatIllegalStateException()
                .isThrownBy(() -> transactions.execute(status ->
                        this.writer.writeInSpringTransaction("orders", "order-4", "OrderPlaced", json("4"), Map.of())))
                .withMessageContaining("is read-only");

        assertThat(outboxRows()).containsExactly(committed + " order-1 OrderPlaced");
        assertThat(business.queryForList("SELECT id FROM orders", String.class)).containsExactly("order-1");
    }

    @Test
    void theIdsItReturnsAreVersion7IncreaseAndAreTheRowsEventIds() throws Exception {
        List<UUID> returned = new ArrayList<>();
        inTransaction(connection -> {
            for (int i = 0; i < 100; i++) {
                returned.add(this.writer.write(connection, "orders", "order-" + (i % 7), "OrderPlaced", json("x")));
            }
            return null;
        });

        assertThat(returned).allSatisfy(id -> assertThat(id.version()).isEqualTo(7));
        assertThat(returned).isSorted().doesNotHaveDuplicates();
        assertThat(this.jdbc
                        .sql("SELECT event_id FROM outbox_event ORDER BY id")
                        .query((rs, row) -> UUID.fromString(rs.getString(1)))
                        .list())
                .isEqualTo(returned);
    }

    @Test
    void anEventWithoutTopicATombstoneWithoutKeyAndAHeaderOfTheOutboxsOwnAreRefused() throws SQLException {
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);

            assertThatIllegalArgumentException()
                    .isThrownBy(() -> this.writer.write(connection, " ", "order-1", "OrderPlaced", json("x")))
                    .withMessage("Event 'OrderPlaced' has a blank topic: name the Kafka topic the event goes to.");
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> this.writer.write(connection, "orders", null, "OrderDeleted", null))
                    .withMessageStartingWith("Event 'OrderDeleted' would write a tombstone (null payload) to topic"
                            + " 'orders' without a key");
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> this.writer.write(
                            connection,
                            "orders",
                            "order-1",
                            "OrderPlaced",
                            json("x"),
                            Map.of("outbox-event-id", "mine")))
                    .withMessageContaining("sets the header 'outbox-event-id'")
                    .withMessageContaining("Rename the header");

            UUID tombstone = this.writer.write(connection, "orders", "order-1", "OrderDeleted", null);
            connection.commit();
            assertThat(outboxRows()).containsExactly(tombstone + " order-1 OrderDeleted");
        }
    }

    @Test
    void anEventLargerThanTheRelaysProducerSendsIsRefused() throws SQLException {
        JdbcOutboxWriter limited = JdbcOutboxWriter.forProducer(this.store, Map.of("max.request.size", "1000"));
        // The event's record: its payload, key, the event id and type headers, and Kafka's framing.
        int framing =
                128 + (10 + "outbox-event-id".length() + 36) + (10 + "outbox-event-type".length() + "Big".length());
        byte[] largest = new byte[1000 - framing - "k".length()];

        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> limited.write(connection, "orders", "k", "Big", new byte[largest.length + 1]))
                    .withMessageContaining("Event 'Big' to topic 'orders' (key 'k') is 1001 bytes as a Kafka record")
                    .withMessageContaining("the producer's max.request.size=1000");
            limited.write(connection, "orders", "k", "Big", largest);
            connection.commit();
        }
        assertThat(outboxRows()).hasSize(1);
        assertThat(this.writer.maxRecordBytes()).as("Kafka's default").isEqualTo(1024 * 1024);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> JdbcOutboxWriter.forProducer(this.store, Map.of("max.request.size", "1MB")))
                .withMessage("The producer's max.request.size=1MB is not a number of bytes: give it as a whole number"
                        + " of bytes, such as 1048576 for 1 MiB.");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> JdbcOutboxWriter.forProducer(this.store, Map.of("max.request.size", -5)))
                .withMessageContaining("Invalid maximum record size -5 bytes from the producer's max.request.size=-5")
                .withMessageContaining("it must be positive");
    }

    @Test
    void anEventLargerThanTheLimitGivenToTheConstructorIsRefusedNamingThatLimit() throws SQLException {
        JdbcOutboxWriter limited = new JdbcOutboxWriter(this.store, 500);

        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> limited.write(connection, "orders", "k", "Big", new byte[500]))
                    .withMessageContaining("more than the 500 bytes the relay can publish (the maxRecordBytes given"
                            + " to JdbcOutboxWriter's constructor)")
                    .withMessageContaining("or raise the maxRecordBytes given to JdbcOutboxWriter's constructor, with"
                            + " the relay producer's max.request.size");
            connection.rollback();
        }
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new JdbcOutboxWriter(this.store, 0))
                .withMessageContaining("Invalid maximum record size 0 bytes from the maxRecordBytes given to"
                        + " JdbcOutboxWriter's constructor");
    }

    private List<String> outboxRows() {
        return this.jdbc
                .sql("SELECT concat_ws(' ', event_id, record_key, event_type) FROM outbox_event ORDER BY id")
                .query(String.class)
                .list();
    }

    private static void insertOrder(Connection connection, String id) throws SQLException {
        try (var insert = connection.prepareStatement("INSERT INTO orders (id) VALUES (?)")) {
            insert.setString(1, id);
            insert.executeUpdate();
        }
    }

    private static byte[] json(String order) {
        return "{\"order\":\"%s\"}".formatted(order).getBytes(StandardCharsets.UTF_8);
    }

    private <T> T inTransaction(ConnectionWork<T> work) throws Exception {
        try (Connection connection = this.store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (Exception ex) {
                connection.rollback();
                throw ex;
            }
        }
    }

    @FunctionalInterface
    private interface ConnectionWork<T> {
        T run(Connection connection) throws Exception;
    }
}
