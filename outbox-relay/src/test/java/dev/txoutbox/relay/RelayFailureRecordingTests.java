package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static dev.txoutbox.testing.Reflection.invoke;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What the relay records when sends fail: per topic and key, with the real cause, never undoing its deletes. On each
 * database.
 */
abstract class RelayFailureRecordingTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final TestDatabase database;

    private OutboxStore store;

    private JdbcClient jdbc;

    /** What the failed commit of {@link #failingAtFirstCommit()} says. */
    private String commitFailure = "";

    RelayFailureRecordingTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTable() {
        this.store = OutboxTestTables.newStore(this.database);
        this.jdbc = JdbcClient.create(this.store.dataSource());
    }

    @AfterEach
    void stopRelays() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
    }

    @Test
    void aFailureOfAKeyInOneTopicDoesNotStopTheSameKeyInAnotherTopicWithinTheBatch() {
        this.store.insert(event("customers", "42", "{\"seq\":0}"));
        this.store.insert(event("orders", "42", "{\"seq\":0}"));
        this.store.insert(event("orders", "42", "{\"seq\":1}"));
        List<String> sent = new CopyOnWriteArrayList<>();
        RecordPublisher refusingCustomers = record -> {
            sent.add(record.topic() + "/" + record.key() + "/" + new String(record.payload()));
            return "customers".equals(record.topic())
                    ? CompletableFuture.failedFuture(new IllegalStateException("customers refused"))
                    : CompletableFuture.completedFuture(null);
        };
        OutboxRelay relay = new OutboxRelay(this.store, refusingCustomers, RelaySettings.defaults());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.failed()).isEqualTo(1);
        assertThat(result.published()).as("key 42 of orders went on").isEqualTo(2);
        assertThat(sent).containsExactly("customers/42/{\"seq\":0}", "orders/42/{\"seq\":0}", "orders/42/{\"seq\":1}");
        assertThat(this.store.count())
                .as("only the customers row is left, for its retry")
                .isEqualTo(1);
    }

    @Test
    void aRecordStillInFlightWhenTheCycleStopsWaitingIsNotClaimableBeforeThePublisherCanNoLongerWriteIt() {
        this.store.insert(event("orders", "order-1", "{\"seq\":0}"));
        List<Instant> sentAt = new CopyOnWriteArrayList<>();
        RecordPublisher neverAnswers = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                sentAt.add(Instant.now());
                return new CompletableFuture<>();
            }

            @Override
            public Duration maxDeliveryTime() {
                return Duration.ofSeconds(5);
            }
        };
        OutboxRelay relay = new OutboxRelay(
                this.store,
                neverAnswers,
                RelaySettings.builder()
                        .sendTimeout(Duration.ofMillis(500))
                        .retry(Duration.ofMillis(100), 2.0, Duration.ofMillis(100))
                        .build());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.failed()).isEqualTo(1);
        Map<String, Object> row = this.jdbc
                .sql("SELECT attempts, next_attempt_at, last_error FROM outbox_event")
                .query()
                .singleRow();
        assertThat(row.get("attempts")).as("it was sent, so the attempt counts").isEqualTo(1);
        assertThat(this.database.instant(row.get("next_attempt_at")))
                .as("claimable again only once the publisher can no longer write the copy it holds")
                .isAfterOrEqualTo(sentAt.get(0).plus(Duration.ofSeconds(5)).minusMillis(20));
        assertThat((String) row.get("last_error")).contains("RelaySettings.sendTimeout");
        assertThat(relay.relayOnce().published()).isZero();
    }

    @Test
    void aRecordWhoseBatchTheProducerExpiredIsHeldBackAsOneStillInFlight() {
        this.store.insert(event("orders", "order-1", "{\"seq\":0}"));
        List<Instant> sentAt = new CopyOnWriteArrayList<>();
        RecordPublisher expiring = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                sentAt.add(Instant.now());
                return CompletableFuture.failedFuture(new org.apache.kafka.common.errors.TimeoutException(
                        "Expiring 1 record(s) for orders-0: 30012 ms has passed since batch creation"));
            }

            @Override
            public FailureKind classify(OutboxRecord record, Throwable error) {
                return FailureKind.UNAVAILABLE;
            }

            @Override
            public boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
                return error instanceof org.apache.kafka.common.errors.TimeoutException;
            }

            @Override
            public Duration maxDeliveryTime() {
                return Duration.ofSeconds(5);
            }
        };
        OutboxRelay relay = new OutboxRelay(
                this.store,
                expiring,
                RelaySettings.builder()
                        .retry(Duration.ofMillis(100), 2.0, Duration.ofMillis(100))
                        .build());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.failed()).isEqualTo(1);
        Map<String, Object> row = this.jdbc
                .sql("SELECT attempts, next_attempt_at, last_error FROM outbox_event")
                .query()
                .singleRow();
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(this.database.instant(row.get("next_attempt_at")))
                .as("the broker may still write the expired batch: not claimable before that can no longer happen")
                .isAfterOrEqualTo(sentAt.get(0).plus(Duration.ofSeconds(5)).minusMillis(20));
        assertThat((String) row.get("last_error")).contains("Expiring 1 record(s)");
    }

    @Test
    void whenTheCycleFailsAtItsCommitARecordStillInFlightIsHeldBackAndTheAcknowledgedOneIsDeleted() {
        this.store.insert(event("orders", "order-1", "{\"seq\":0}"));
        this.store.insert(event("orders", "order-2", "{\"seq\":0}"));
        OutboxStore failingAtCommit = failingAtFirstCommit();
        Instant[] sentAt = new Instant[1];
        RecordPublisher slowForOrder1 = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                if ("order-1".equals(record.key())) {
                    sentAt[0] = Instant.now();
                    return new CompletableFuture<>();
                }
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public Duration maxDeliveryTime() {
                return Duration.ofSeconds(5);
            }
        };
        OutboxRelay relay = new OutboxRelay(
                failingAtCommit,
                slowForOrder1,
                RelaySettings.builder()
                        .sendTimeout(Duration.ofMillis(500))
                        .retry(Duration.ofMillis(100), 2.0, Duration.ofMillis(100))
                        .build());

        assertThatThrownBy(relay::relayOnce).hasStackTraceContaining(this.commitFailure);

        Map<String, Object> row = this.jdbc
                .sql("SELECT record_key, attempts, next_attempt_at FROM outbox_event")
                .query()
                .singleRow();
        assertThat(row.get("record_key")).as("the acknowledged row is deleted").isEqualTo("order-1");
        assertThat(row.get("next_attempt_at"))
                .as("the row of the record in flight is held back")
                .isNotNull();
        assertThat(this.database.instant(row.get("next_attempt_at")))
                .as("the row of the record in flight is not claimable before its copy can no longer land")
                .isAfterOrEqualTo(sentAt[0].plus(Duration.ofSeconds(5)).minusMillis(20));
    }

    /**
     * The outbox table through a store whose first commit that follows an update of outbox rows fails, as when the
     * database fails at the commit or the session ends there; the transaction is rolled back.
     */
    private OutboxStore failingAtFirstCommit() {
        if (this.database == TestDatabase.POSTGRESQL) {
            // A deferred trigger on the rows the cycle updates raises at the commit (a sequence is not rolled back,
            // so the second transaction that updates rows commits).
            this.jdbc.sql("""
                    CREATE SEQUENCE commit_failures;
                    CREATE FUNCTION fail_first_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF nextval('commit_failures') = 1 THEN
                            RAISE EXCEPTION 'injected: the commit failed';
                        END IF;
                        RETURN NULL;
                    END $$;
                    CREATE CONSTRAINT TRIGGER fail_first_commit AFTER UPDATE ON outbox_event
                        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first_commit();
                    """).update();
            this.commitFailure = "injected: the commit failed";
            return this.store;
        }
        // MariaDB and MySQL have no deferred constraints: the session is killed just before its first commit after
        // an update, and the commit fails on the ended session, whose transaction the server rolled back.
        AtomicBoolean updated = new AtomicBoolean();
        AtomicBoolean failed = new AtomicBoolean();
        this.commitFailure =
                this.database == TestDatabase.MYSQL ? "Communications link failure" : "socket was closed by server";
        DataSource target = this.store.dataSource();
        DataSource failing = (DataSource) Proxy.newProxyInstance(
                DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, arguments) -> {
                    Object result = invoke(target, method, arguments);
                    if (!(result instanceof Connection connection)) {
                        return result;
                    }
                    return Proxy.newProxyInstance(
                            Connection.class.getClassLoader(),
                            new Class<?>[] {Connection.class},
                            (connectionProxy, connectionMethod, connectionArguments) -> {
                                if (connectionMethod.getName().equals("prepareStatement")
                                        && connectionArguments[0].toString().startsWith("UPDATE")) {
                                    updated.set(true);
                                }
                                if (connectionMethod.getName().equals("commit")
                                        && updated.get()
                                        && failed.compareAndSet(false, true)) {
                                    killSession(connection);
                                }
                                return invoke(connection, connectionMethod, connectionArguments);
                            });
                });
        return new OutboxStore(failing, this.store.dialect(), this.store.table());
    }

    private void killSession(Connection connection) throws Exception {
        long session;
        try (Statement statement = connection.createStatement();
                ResultSet id = statement.executeQuery("SELECT CONNECTION_ID()")) {
            id.next();
            session = id.getLong(1);
        }
        this.jdbc.sql("KILL CONNECTION " + session).update();
    }

    @Test
    void aPublisherThatThrowsAnErrorWhenAskedAboutAFailedSendStillGetsTheSendRecordedAndTheOthersDeleted() {
        this.store.insert(event("orders", "order-1", "{\"seq\":0}"));
        this.store.insert(event("orders", "order-2", "{\"seq\":0}"));
        RecordPublisher brokenWhenAsked = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                return "order-1".equals(record.key())
                        ? CompletableFuture.failedFuture(new IllegalStateException("broker said no"))
                        : CompletableFuture.completedFuture(null);
            }

            @Override
            public FailureKind classify(OutboxRecord record, Throwable error) {
                throw new AssertionError("classify is broken");
            }

            @Override
            public boolean mayStillBeWritten(OutboxRecord record, Throwable error) {
                throw new NoClassDefFoundError("mayStillBeWritten is broken");
            }

            @Override
            public Duration maxDeliveryTime() {
                throw new AssertionError("maxDeliveryTime is broken");
            }
        };
        OutboxRelay relay = new OutboxRelay(this.store, brokenWhenAsked, RelaySettings.defaults());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.published()).isEqualTo(1);
        assertThat(result.failed()).isEqualTo(1);
        Map<String, Object> row = this.jdbc
                .sql("SELECT record_key, attempts, next_attempt_at, last_error FROM outbox_event")
                .query()
                .singleRow();
        assertThat(row.get("record_key")).isEqualTo("order-1");
        assertThat(row.get("attempts")).as("the failed send is recorded").isEqualTo(1);
        assertThat(row.get("next_attempt_at")).isNotNull();
        assertThat((String) row.get("last_error")).contains("broker said no");
    }

    @Test
    void aTopicTheBrokerDoesNotKnowDoesNotLeaveTheRecordsOfOtherTopicsUnsent() {
        String healthy = EmbeddedInfrastructure.newTopic("healthy", 1);
        String missing = "missing-" + UUID.randomUUID();
        // The missing topic's rows come first in every pair, so that each of them would block a send before the next
        // healthy one; the broker does not create topics on demand.
        for (int i = 0; i < 10; i++) {
            if (i < 5) {
                this.store.insert(event(missing, "m-" + i, "{\"seq\":0}"));
            }
            this.store.insert(event(healthy, "h-" + i, "{\"seq\":0}"));
        }
        RelaySettings settings = RelaySettings.defaults();
        OutboxRelay relay = new OutboxRelay(this.store, kafkaPublisher(settings), settings);
        Instant before = Instant.now();

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.published()).as("every record of the healthy topic").isEqualTo(10);
        assertThat(result.failed()).isEqualTo(5);
        try (TopicReader reader = new TopicReader(healthy)) {
            assertThat(reader.awaitRecords(10, TIMEOUT)).hasSize(10);
        }
        List<Map<String, Object>> rows = this.jdbc
                .sql("SELECT topic, attempts, next_attempt_at FROM outbox_event")
                .query()
                .listOfRows();
        assertThat(rows).hasSize(5).allSatisfy(row -> {
            assertThat(row.get("topic")).isEqualTo(missing);
            assertThat(row.get("attempts")).isEqualTo(1);
            assertThat(this.database.instant(row.get("next_attempt_at")))
                    .as("waits for its retry instead of heading the next batch")
                    .isAfter(before);
        });
    }

    @Test
    void aRecordTooLargeForItsTopicIsDeadLetteredWithTheBrokersReasonNotTheWrappersWords() {
        String topic = "small-" + UUID.randomUUID();
        EmbeddedInfrastructure.kafka()
                .addTopics(new NewTopic(topic, 1, (short) 1).configs(Map.of("max.message.bytes", "1024")));
        byte[] large = new byte[8 * 1024];
        java.util.Arrays.fill(large, (byte) 'x');
        this.store.insert(new NewRecord(UUID.randomUUID(), topic, "big", "TestEvent", large, Map.of()));
        RelaySettings settings =
                RelaySettings.builder().sendTimeout(Duration.ofSeconds(10)).build();
        OutboxRelay relay = new OutboxRelay(this.store, kafkaPublisher(settings), settings);

        assertThat(relay.relayOnce().deadLettered()).isEqualTo(1);

        DeadLetter deadLetter = new DeadLetters(this.store.dataSource(), this.store.dialect(), this.store.table())
                .list(10)
                .get(0);
        assertThat(deadLetter.lastError())
                .contains("RecordTooLargeException")
                .contains("larger than the max message size");
    }

    @Test
    void whenTheRelayMayNotWriteDeadLettersItStillDeletesWhatWasPublishedAndRepublishesNothing() {
        HikariDataSource relayDataSource = withoutDeadLetterInserts();
        this.closeables.add(relayDataSource);
        OutboxStore relayStore = new OutboxStore(relayDataSource, this.store.dialect(), this.store.table());
        String topic = EmbeddedInfrastructure.newTopic("no-dead-letters", 2);
        this.store.insert(event(topic, "bad", "{\"seq\":0}"));
        for (int i = 0; i < 50; i++) {
            this.store.insert(event(topic, "good-" + (i % 5), "{\"seq\":" + i + "}"));
        }
        RelaySettings settings = RelaySettings.builder()
                .pollInterval(Duration.ofMillis(50))
                .batchSize(20)
                .retry(Duration.ofMillis(200), 2.0, Duration.ofSeconds(5))
                .build();
        KafkaRecordPublisher kafka = kafkaPublisher(settings);
        RecordPublisher refusingBad = new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                return "bad".equals(record.key())
                        ? CompletableFuture.failedFuture(new IllegalArgumentException("can never be published"))
                        : kafka.publish(record);
            }

            @Override
            public FailureKind classify(OutboxRecord record, Throwable error) {
                return error instanceof IllegalArgumentException ? FailureKind.PERMANENT : FailureKind.TRANSIENT;
            }
        };
        List<Throwable> notRecorded = new CopyOnWriteArrayList<>();
        OutboxRelayListener listener = new OutboxRelayListener() {
            @Override
            public void failuresNotRecorded(Throwable error) {
                notRecorded.add(error);
            }
        };
        OutboxRelay relay = new OutboxRelay(relayStore, refusingBad, settings, List.of(listener));
        this.relays.add(relay);

        relay.start();

        await().atMost(TIMEOUT).until(() -> this.store.count() == 1);
        try (TopicReader reader = new TopicReader(topic)) {
            await().atMost(TIMEOUT).until(() -> reader.endOffsetTotal() == 50);
            await().during(Duration.ofSeconds(2))
                    .atMost(TIMEOUT)
                    .alias("nothing is published again")
                    .until(() -> reader.endOffsetTotal() == 50);
        }
        assertThat(notRecorded).isNotEmpty();
        Map<String, Object> bad = this.jdbc
                .sql("SELECT record_key, attempts FROM outbox_event")
                .query()
                .singleRow();
        assertThat(bad.get("record_key")).isEqualTo("bad");
        assertThat((Integer) bad.get("attempts"))
                .as("retried with backoff rather than sent again at once")
                .isPositive();
    }

    /**
     * A data source for the outbox's database whose sessions may do everything to the outbox tables but insert dead
     * letters.
     */
    private HikariDataSource withoutDeadLetterInserts() {
        TableName deadLetters = this.store.table().deadLetters();
        if (this.database == TestDatabase.POSTGRESQL) {
            String role = "relay_without_dead_letters";
            this.jdbc.sql("CREATE ROLE " + role + " LOGIN PASSWORD 'relay'").update();
            this.jdbc.sql("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role).update();
            this.jdbc
                    .sql("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role)
                    .update();
            this.jdbc.sql("REVOKE INSERT ON " + deadLetters + " FROM " + role).update();
            String database = this.jdbc
                    .sql("SELECT current_database()")
                    .query(String.class)
                    .single();
            HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(
                    EmbeddedInfrastructure.postgres().getJdbcUrl(role, database), "relay");
            dataSource.setUsername(role);
            dataSource.setPassword("relay");
            return dataSource;
        }
        // The embedded MariaDB server runs without grant tables, so it refuses nothing for want of a privilege: a
        // trigger refuses every dead letter instead, with the error that a missing INSERT privilege raises.
        this.jdbc.sql("""
                CREATE TRIGGER refuse_dead_letters BEFORE INSERT ON %s FOR EACH ROW
                    SIGNAL SQLSTATE '42000' SET MESSAGE_TEXT = 'INSERT command denied to user for table %s'
                """.formatted(deadLetters, deadLetters)).update();
        return EmbeddedInfrastructure.dataSource(((HikariDataSource) this.store.dataSource()).getJdbcUrl(), "relay");
    }

    private KafkaRecordPublisher kafkaPublisher(RelaySettings settings) {
        KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
        this.closeables.add(publisher);
        return publisher;
    }
}
