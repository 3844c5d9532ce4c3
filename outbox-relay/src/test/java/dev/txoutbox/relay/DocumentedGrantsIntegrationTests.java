package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.ForwardingRecordPublisher;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The privileges that docs/databases.md lists, and no more, are all that the outbox needs: a user granted exactly
 * those writes events, relays them, records failures, moves dead letters and back, records processed ids, and, with
 * the migration privileges, creates the tables, on a server that enforces grants.
 */
abstract class DocumentedGrantsIntegrationTests {

    private static final String PASSWORD = "granted-only";

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final TestDatabase database;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    DocumentedGrantsIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @AfterEach
    void close() {
        // In the reverse order: the user's pools, its removal, the administrator's pool.
        for (int i = this.closeables.size() - 1; i >= 0; i--) {
            try {
                this.closeables.get(i).close();
            } catch (Exception ex) {
                LoggerFactory.getLogger(DocumentedGrantsIntegrationTests.class)
                        .warn("Could not clean up after the test", ex);
            }
        }
    }

    @Test
    void theWritersTheRelayDeadLettersAndDeduplicationNeedOnlyTheApplicationsGrants() throws Exception {
        assumeGrantsEnforced();
        String url = this.database.newDatabaseUrl();
        HikariDataSource admin = closing(EmbeddedInfrastructure.dataSource(url, "admin"));
        TableName table = OutboxTestTables.migratedStore(admin).table();
        String user = newUser(admin);
        List<TableName> tables = this.database == TestDatabase.POSTGRESQL
                ? List.of(table, table.deadLetters(), table.processed())
                : List.of(table, table.deadLetters(), table.processed(), table.keyLocks(), table.cycleSlots());
        for (TableName each : tables) {
            JdbcClient.create(admin)
                    .sql("GRANT SELECT, INSERT, UPDATE, DELETE ON " + each + " TO " + grantee(user))
                    .update();
        }
        HikariDataSource granted = closing(connectAs(url, user));
        OutboxDialect dialect = this.database.dialect();
        OutboxStore store = new OutboxStore(granted, dialect, table);
        store.verifyTable();

        String topic = EmbeddedInfrastructure.newTopic("granted", 1);
        for (int i = 0; i < 4; i++) {
            store.insert(event(topic, "key-" + (i % 2), "{\"n\":" + i + "}"));
        }
        store.insert(event(topic, "poison", "{}"));
        // On a topic of its own: a destination that is away holds back the rest of its topic in the cycle.
        store.insert(event(topic + "-away", "later", "{}"));
        KafkaRecordPublisher kafka = closing(KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                RelaySettings.defaults()));
        // The Kafka publisher's own judgement of each failure: a record too large can never succeed, and becomes a
        // dead letter at once; one whose broker is away waits for its retry.
        RecordPublisher publisher = new ForwardingRecordPublisher(kafka) {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                return switch (String.valueOf(record.key())) {
                    case "poison" ->
                        CompletableFuture.failedFuture(new RecordTooLargeException(
                                "The message is 2000000 bytes when serialized which is larger than 1048576"));
                    case "later" -> CompletableFuture.failedFuture(new TimeoutException("the broker is away"));
                    default -> super.publish(record);
                };
            }
        };
        OutboxRelay relay = new OutboxRelay(store, publisher, RelaySettings.defaults());

        OutboxRelay.CycleResult cycle = relay.relayOnce();

        assertThat(cycle.published()).isEqualTo(4);
        assertThat(cycle.deadLettered()).isEqualTo(1);
        assertThat(cycle.failed()).as("recorded for a retry").isEqualTo(1);
        try (TopicReader reader = new TopicReader(topic)) {
            assertThat(reader.awaitRecords(4, TIMEOUT)).hasSize(4);
        }
        assertThat(store.statistics().waiting())
                .as("the row waiting for its retry")
                .isEqualTo(1);

        DeadLetters deadLetters = new DeadLetters(granted, dialect, table);
        assertThat(deadLetters.list(10))
                .singleElement()
                .satisfies(dead -> assertThat(dead.key()).isEqualTo("poison"));
        assertThat(deadLetters.requeue(topic, "poison")).isEqualTo(1);
        assertThat(relay.relayOnce().deadLettered()).as("dead-lettered again").isEqualTo(1);
        assertThat(deadLetters.discard(topic, "poison")).isEqualTo(1);
        assertThat(deadLetters.count()).isZero();

        ProcessedEvents processed = new ProcessedEvents(granted, dialect, table);
        UUID eventId = UUID.randomUUID();
        assertThat(processed.markProcessed("read-model", eventId)).isTrue();
        assertThat(processed.markProcessed("read-model", eventId))
                .as("a redelivery")
                .isFalse();
        assertThat(processed.purgeOlderThan(Duration.ZERO, 100)).isEqualTo(1);
    }

    @Test
    void theMigrationsNeedOnlyTheMigrationGrantsBesideTheApplicationsOnes() {
        assumeGrantsEnforced();
        String url = this.database.newDatabaseUrl();
        HikariDataSource admin = closing(EmbeddedInfrastructure.dataSource(url, "admin"));
        String user = newUser(admin);
        JdbcClient adminJdbc = JdbcClient.create(admin);
        if (this.database == TestDatabase.POSTGRESQL) {
            // The user creates the tables, and owns them.
            adminJdbc.sql("GRANT CREATE ON SCHEMA public TO " + user).update();
        } else {
            adminJdbc
                    .sql("GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON " + databaseName(admin)
                            + ".* TO " + grantee(user))
                    .update();
        }
        HikariDataSource granted = closing(connectAs(url, user));
        TableName table = new TableName("orders_outbox");

        OutboxMigrations.migrate(
                granted, this.database.dialect(), table, new TableName(OutboxMigrations.DEFAULT_HISTORY_TABLE));

        OutboxStore store = new OutboxStore(granted, this.database.dialect(), table);
        store.verifyTable();
        store.insert(event("t", "k", "{}"));
        assertThat(store.count()).isOne();
    }

    private void assumeGrantsEnforced() {
        assumeTrue(
                this.database != TestDatabase.MARIADB,
                "the embedded MariaDB runs without grant tables: it lets every user do everything");
    }

    /** A user of a name of its own, which the test removes at its end (on MySQL; a PostgreSQL role stays). */
    private String newUser(HikariDataSource admin) {
        String user = "outbox_granted_" + UUID.randomUUID().toString().substring(0, 8);
        JdbcClient jdbc = JdbcClient.create(admin);
        if (this.database == TestDatabase.POSTGRESQL) {
            jdbc.sql("CREATE ROLE " + user + " LOGIN PASSWORD '" + PASSWORD + "'")
                    .update();
        } else {
            jdbc.sql("CREATE USER " + grantee(user) + " IDENTIFIED BY '" + PASSWORD + "'")
                    .update();
            this.closeables.add(
                    () -> jdbc.sql("DROP USER IF EXISTS " + grantee(user)).update());
        }
        return user;
    }

    private String grantee(String user) {
        return this.database == TestDatabase.POSTGRESQL ? user : "'" + user + "'@'%'";
    }

    private static String databaseName(HikariDataSource dataSource) {
        return JdbcClient.create(dataSource)
                .sql("SELECT DATABASE()")
                .query(String.class)
                .single();
    }

    /** A pool whose sessions are the user's; without the URL's own user, which would win over the pool's. */
    private HikariDataSource connectAs(String url, String user) {
        HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(withoutUser(url), user);
        dataSource.setUsername(user);
        dataSource.setPassword(PASSWORD);
        return dataSource;
    }

    private String withoutUser(String url) {
        return this.database == TestDatabase.POSTGRESQL ? url.replaceFirst("\\?.*", "") : url;
    }

    private <T extends AutoCloseable> T closing(T closeable) {
        this.closeables.add(closeable);
        return closeable;
    }
}
