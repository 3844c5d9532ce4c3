package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.ForwardingRecordPublisher;
import dev.txoutbox.testing.OutboxHeaders;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import dev.txoutbox.testing.TopicReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The relay, built without Spring Boot, against each embedded database and Kafka. */
abstract class OutboxRelayIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final TestDatabase database;

    private OutboxStore store;

    private JdbcClient jdbc;

    private String topic;

    OutboxRelayIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTableAndTopic() {
        this.store = OutboxTestTables.newStore(this.database);
        this.jdbc = JdbcClient.create(this.store.dataSource());
        this.topic = EmbeddedInfrastructure.newTopic("relay", 3);
    }

    @AfterEach
    void stopRelays() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
    }

    @Test
    void publishesARowWithKeyValueHeadersAndTimestampThenDeletesIt() {
        NewRecord event = new NewRecord(
                UUID.randomUUID(),
                this.topic,
                "order-1",
                "OrderPlaced",
                "{\"id\":1}".getBytes(StandardCharsets.UTF_8),
                Map.of("tenant", "acme"));
        this.store.insert(event);
        long createdMicros = this.jdbc
                .sql("SELECT " + this.database.epochMicros("created_at") + " FROM outbox_event")
                .query(Long.class)
                .single();

        OutboxRelay.CycleResult result = newRelay(RelaySettings.defaults()).relayOnce();

        assertThat(result.published()).isEqualTo(1);
        try (TopicReader reader = new TopicReader(this.topic)) {
            ConsumerRecord<String, byte[]> record =
                    reader.awaitRecords(1, TIMEOUT).get(0);
            assertThat(record.key()).isEqualTo("order-1");
            assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":1}");
            assertThat(header(record, OutboxHeaders.EVENT_ID))
                    .isEqualTo(event.eventId().toString());
            assertThat(header(record, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderPlaced");
            assertThat(header(record, "tenant")).isEqualTo("acme");
            assertThat(record.timestamp()).isEqualTo(createdMicros / 1000);
        }
        assertThat(this.store.count()).isZero();
    }

    @Test
    void tombstoneArrivesWithNullValue() {
        this.store.insert(new NewRecord(UUID.randomUUID(), this.topic, "order-1", "OrderDeleted", null, Map.of()));

        newRelay(RelaySettings.defaults()).relayOnce();

        try (TopicReader reader = new TopicReader(this.topic)) {
            ConsumerRecord<String, byte[]> record =
                    reader.awaitRecords(1, TIMEOUT).get(0);
            assertThat(record.key()).isEqualTo("order-1");
            assertThat(record.value()).isNull();
            assertThat(header(record, OutboxHeaders.EVENT_TYPE)).isEqualTo("OrderDeleted");
        }
        assertThat(this.store.count()).isZero();
    }

    @Test
    void rowsWrittenWhileTheRelayWasStoppedArePublishedWhenItStarts() {
        for (int i = 0; i < 50; i++) {
            this.store.insert(event(this.topic, "key-" + (i % 5), "{\"n\":" + i + "}"));
        }
        OutboxRelay relay = newRelay(RelaySettings.builder().batchSize(20).build());
        assertThat(this.store.count()).isEqualTo(50);

        relay.start();

        try (TopicReader reader = new TopicReader(this.topic)) {
            assertThat(reader.awaitRecords(50, TIMEOUT)).hasSize(50);
        }
        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
    }

    @Test
    void twoRelaysOnOneTablePublishEveryRowExactlyOnceAndInKeyOrder() {
        int events = 3000;
        for (int i = 0; i < events; i++) {
            this.store.insert(event(this.topic, "key-" + (i % 40), "{\"seq\":" + i + "}"));
        }
        RelaySettings settings = RelaySettings.builder()
                .batchSize(50)
                .pollInterval(Duration.ofMillis(20))
                .build();
        OutboxRelay first = newRelay(settings);
        OutboxRelay second = newRelay(settings);

        first.start();
        second.start();

        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
        try (TopicReader reader = new TopicReader(this.topic)) {
            List<ConsumerRecord<String, byte[]>> records = reader.awaitRecords(events, TIMEOUT);
            assertThat(reader.endOffsetTotal()).isEqualTo(events);
            Set<String> eventIds = records.stream()
                    .map(record -> header(record, OutboxHeaders.EVENT_ID))
                    .collect(Collectors.toSet());
            assertThat(eventIds).hasSize(events);
            Map<String, Integer> lastSeqByKey = new HashMap<>();
            for (ConsumerRecord<String, byte[]> record : records) {
                int seq = Integer.parseInt(new String(record.value(), StandardCharsets.UTF_8).replaceAll("\\D", ""));
                Integer previous = lastSeqByKey.put(record.key(), seq);
                assertThat(previous == null || previous < seq)
                        .as("record %d of %s after %d", seq, record.key(), previous)
                        .isTrue();
            }
        }
    }

    @Test
    void relaysOnOneTableRunNoMoreCyclesAtOnceThanItsTableConcurrency() throws InterruptedException {
        int events = 600;
        for (int i = 0; i < events; i++) {
            this.store.insert(event(this.topic, "key-" + (i % 300), "{\"seq\":" + i + "}"));
        }
        // Three relays of two cycles each, on two slots, and keys enough for six cycles to claim rows of their own (a
        // row waits while an earlier one of its key is claimed). Acknowledgements come 100 ms late, so that each cycle
        // stays in flight long enough to be seen next to another. Two views of it: the publisher's, exact, counts the
        // cycle threads waiting for acknowledgements (a cycle waits for its own before it commits, and a thread runs
        // one cycle at a time); the database's, sampled, counts the transactions holding claimed rows, and may miss a
        // moment (on a busy machine it once saw one at a time at most).
        RelaySettings settings = RelaySettings.builder()
                .batchSize(20)
                .pollInterval(Duration.ofMillis(20))
                .tableConcurrency(2)
                .build();
        Map<Thread, Integer> pendingByThread = new HashMap<>();
        AtomicInteger mostThreadsWaiting = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            RecordPublisher late = new ForwardingRecordPublisher(kafkaPublisher(settings)) {
                @Override
                public CompletableFuture<?> publish(OutboxRecord record) {
                    Thread cycle = Thread.currentThread();
                    synchronized (pendingByThread) {
                        pendingByThread.merge(cycle, 1, Integer::sum);
                        mostThreadsWaiting.accumulateAndGet(pendingByThread.size(), Math::max);
                    }
                    CompletableFuture<?> sent;
                    try {
                        sent = super.publish(record);
                    } catch (RuntimeException ex) {
                        sent = CompletableFuture.failedFuture(ex);
                    }
                    return sent.thenApplyAsync(
                                    acknowledged -> acknowledged,
                                    CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
                            .whenComplete((acknowledged, error) -> {
                                synchronized (pendingByThread) {
                                    pendingByThread.computeIfPresent(cycle, (thread, n) -> n == 1 ? null : n - 1);
                                }
                            });
                }
            };
            OutboxRelay relay = new OutboxRelay(this.store, late, settings);
            this.relays.add(relay);
            relay.start();
        }

        int mostAtOnce = 0;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (this.store.count() > 0) {
            assertThat(System.nanoTime() - deadline)
                    .as("the relays drained the table in time")
                    .isNegative();
            int inFlight = transactionsHoldingOutboxRows();
            mostAtOnce = Math.max(mostAtOnce, inFlight);
            Thread.sleep(1);
        }

        assertThat(mostThreadsWaiting.get())
                .as("cycle threads waiting for acknowledgements at once, of the six the relays have")
                .isEqualTo(2);
        assertThat(mostAtOnce)
                .as("transactions holding claimed rows at once, as sampled")
                .isBetween(1, 2);
        try (TopicReader reader = new TopicReader(this.topic)) {
            reader.awaitRecords(events, TIMEOUT);
            assertThat(reader.endOffsetTotal()).isEqualTo(events);
        }
    }

    /** The transactions that have claimed outbox rows, whatever took their cycle slots. */
    private int transactionsHoldingOutboxRows() {
        if (this.database == TestDatabase.POSTGRESQL) {
            // FOR UPDATE takes a ROW SHARE lock on the table.
            return this.jdbc.sql("""
                            SELECT count(DISTINCT pid) FROM pg_locks
                            WHERE relation = 'outbox_event'::regclass AND mode = 'RowShareLock' AND granted
                              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                            """).query(Integer.class).single();
        }
        // InnoDB names no table of a granted lock, but counts the tables each transaction holds row locks on: a
        // cycle's slot row, and its claimed rows of the outbox. Nothing else runs on this database.
        return this.jdbc.sql("""
                        SELECT count(*) FROM information_schema.innodb_trx t
                            JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
                        WHERE p.db = DATABASE() AND t.trx_tables_locked >= 2 AND t.trx_rows_locked >= 2
                        """).query(Integer.class).single();
    }

    @Test
    void aRelayVacuumsTheTableOnceItHasDeletedEnoughRows() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "PostgreSQL's VACUUM; InnoDB purges deleted rows itself");
        // Autovacuum, whose threshold is the same, would make the relay's vacuum skip the table.
        this.jdbc
                .sql("ALTER TABLE outbox_event SET (autovacuum_enabled = false)")
                .update();
        insertRows(OutboxRelay.VACUUM_AFTER_DELETED_ROWS - 1000);
        RecordPublisher acknowledgesAtOnce = record -> CompletableFuture.completedFuture(null);
        OutboxRelay relay = new OutboxRelay(
                this.store,
                acknowledgesAtOnce,
                RelaySettings.builder().pollInterval(Duration.ofMillis(50)).build());
        this.relays.add(relay);

        relay.start();

        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
        await().during(Duration.ofMillis(500)).atMost(TIMEOUT).until(() -> vacuums() == 0);

        insertRows(1500);

        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
        await().atMost(TIMEOUT).until(() -> vacuums() == 1);
        await().during(Duration.ofMillis(500)).atMost(TIMEOUT).until(() -> vacuums() == 1);
    }

    @Test
    void withAVacuumIntervalOfZeroTheRelayLeavesTheTableToAutovacuum() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "PostgreSQL's VACUUM; InnoDB purges deleted rows itself");
        int rows = OutboxRelay.VACUUM_AFTER_DELETED_ROWS + 500;
        insertRows(rows);
        RecordPublisher acknowledgesAtOnce = record -> CompletableFuture.completedFuture(null);
        OutboxRelay relay = new OutboxRelay(
                this.store,
                acknowledgesAtOnce,
                RelaySettings.builder().vacuumInterval(Duration.ZERO).build());
        this.relays.add(relay);

        relay.start();

        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
        assertThat(Thread.getAllStackTraces().keySet())
                .extracting(Thread::getName)
                .doesNotContain(relay.name() + "-vacuum");
        assertThat(vacuums()).isZero();
    }

    @Test
    void onADatabaseThatPurgesDeletedRowsItselfTheRelayRunsNoVacuumThread() {
        assumeTrue(this.database.dialect().vacuum(this.store.table()) == null, "a database that needs vacuums");
        insertRows(OutboxRelay.VACUUM_AFTER_DELETED_ROWS + 500);
        RecordPublisher acknowledgesAtOnce = record -> CompletableFuture.completedFuture(null);
        OutboxRelay relay = new OutboxRelay(this.store, acknowledgesAtOnce, RelaySettings.defaults());
        this.relays.add(relay);

        relay.start();

        await().atMost(TIMEOUT).until(() -> this.store.count() == 0);
        assertThat(Thread.getAllStackTraces().keySet())
                .extracting(Thread::getName)
                .doesNotContain(relay.name() + "-vacuum");
    }

    @Test
    void aCycleThatFillsItsBatchLetsTheProducerGatherRecordsAndOneThatDoesNotTellsItToSendAtOnce() {
        insertRows(5);
        AtomicInteger told = new AtomicInteger();
        RecordPublisher counting = new ForwardingRecordPublisher(kafkaPublisher(RelaySettings.defaults())) {
            @Override
            public void sendBuffered() {
                told.incrementAndGet();
                super.sendBuffered();
            }
        };
        OutboxRelay relay = new OutboxRelay(
                this.store, counting, RelaySettings.builder().batchSize(3).build());

        assertThat(relay.relayOnce().published()).isEqualTo(3);
        assertThat(told).as("a full batch: more rows wait behind it").hasValue(0);
        assertThat(relay.relayOnce().published()).isEqualTo(2);
        assertThat(told)
                .as("the last two rows, fewer than a batch, in one wave")
                .hasValue(1);
    }

    private void insertRows(int rows) {
        OutboxTestTables.insertEvents(this.store, this.topic, rows, 100);
    }

    /** Vacuums of the table other than autovacuum's. */
    private long vacuums() {
        return this.jdbc
                .sql("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox_event'")
                .query(Long.class)
                .single();
    }

    @Test
    void aFailedSendIsRetriedLaterAndHoldsBackOnlyItsOwnKey() {
        for (int i = 0; i < 3; i++) {
            this.store.insert(event(this.topic, "poison", "{\"seq\":" + i + "}"));
            this.store.insert(event(this.topic, "healthy", "{\"seq\":" + i + "}"));
        }
        KafkaRecordPublisher kafka = kafkaPublisher(RelaySettings.defaults());
        Set<String> failOnce = ConcurrentHashMap.newKeySet();
        failOnce.add("poison");
        RecordPublisher flaky = record -> failOnce.remove(record.key())
                ? CompletableFuture.failedFuture(new IllegalStateException("broker said no"))
                : kafka.publish(record);
        // A retry delay well above how long a cycle can take on a loaded machine, so that the failed row still waits
        // when the test looks at it and when it runs the second cycle.
        OutboxRelay relay = new OutboxRelay(
                this.store,
                flaky,
                RelaySettings.builder()
                        .retry(Duration.ofSeconds(5), 2.0, Duration.ofSeconds(5))
                        .build());

        OutboxRelay.CycleResult first = relay.relayOnce();

        assertThat(first.published()).isEqualTo(3);
        assertThat(first.failed()).isEqualTo(1);
        Map<String, Object> failed = this.jdbc
                .sql("SELECT attempts, last_error, CASE WHEN next_attempt_at > CURRENT_TIMESTAMP THEN 'yes' ELSE 'no'"
                        + " END AS waiting FROM outbox_event ORDER BY id LIMIT 1")
                .query()
                .singleRow();
        assertThat(failed.get("attempts")).isEqualTo(1);
        assertThat((String) failed.get("last_error")).contains("broker said no").contains("poison");
        assertThat(failed.get("waiting")).isEqualTo("yes");
        assertThat(relay.relayOnce().published())
                .as("the poison key waits for its retry, its later rows with it")
                .isZero();

        await().atMost(TIMEOUT).until(() -> relay.relayOnce().published() == 3);

        try (TopicReader reader = new TopicReader(this.topic)) {
            List<String> poison = reader.awaitRecords(6, TIMEOUT).stream()
                    .filter(record -> "poison".equals(record.key()))
                    .map(record -> new String(record.value(), StandardCharsets.UTF_8))
                    .toList();
            assertThat(poison).containsExactly("{\"seq\":0}", "{\"seq\":1}", "{\"seq\":2}");
        }
    }

    @Test
    void aRecordThatCanNeverBePublishedIsDeadLetteredAtOnceAndParksItsKeyUntilRequeued() throws Exception {
        // A topic that refuses records above 1 KiB, and an event over that: the broker refuses it on every attempt.
        String smallTopic = "small-" + UUID.randomUUID();
        EmbeddedInfrastructure.kafka()
                .addTopics(new NewTopic(smallTopic, 1, (short) 1)
                        .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1024")));
        this.store.insert(event(smallTopic, "poison", "{\"seq\":0,\"pad\":\"" + "x".repeat(2048) + "\"}"));
        this.store.insert(event(smallTopic, "poison", "{\"seq\":1}"));
        this.store.insert(event(this.topic, "healthy", "{\"seq\":0}"));
        OutboxRelay relay = newRelay(
                RelaySettings.builder().sendTimeout(Duration.ofSeconds(3)).build());
        DeadLetters deadLetters = new DeadLetters(this.store.dataSource(), this.store.dialect(), this.store.table());

        OutboxRelay.CycleResult first = relay.relayOnce();

        assertThat(first.deadLettered()).isEqualTo(1);
        assertThat(first.published()).as("the other key flows").isEqualTo(1);
        DeadLetter deadLetter = deadLetters.list(10).get(0);
        assertThat(deadLetter.topic()).isEqualTo(smallTopic);
        assertThat(deadLetter.attempts()).isEqualTo(1);
        assertThat(deadLetter.lastError()).contains("cannot succeed").contains(smallTopic);
        assertThat(relay.relayOnce().published()).as("the poison key is parked").isZero();
        assertThat(this.store.count()).isEqualTo(1);

        raiseMaxMessageBytes(smallTopic);
        assertThat(deadLetters.requeue(deadLetter.id())).isTrue();
        await().atMost(TIMEOUT).until(() -> relay.relayOnce().published() > 0 && this.store.count() == 0);

        assertThat(deadLetters.count()).isZero();
        try (TopicReader reader = new TopicReader(smallTopic)) {
            List<ConsumerRecord<String, byte[]>> poison = reader.awaitRecords(2, TIMEOUT);
            assertThat(header(poison.get(0), OutboxHeaders.EVENT_ID))
                    .isEqualTo(deadLetter.eventId().toString());
            assertThat(poison)
                    .extracting(record -> new String(record.value(), StandardCharsets.UTF_8))
                    .satisfiesExactly(
                            requeued -> assertThat(requeued).startsWith("{\"seq\":0,"),
                            later -> assertThat(later).isEqualTo("{\"seq\":1}"));
        }
        try (TopicReader reader = new TopicReader(this.topic)) {
            assertThat(reader.awaitRecords(1, TIMEOUT))
                    .extracting(ConsumerRecord::key)
                    .containsExactly("healthy");
        }
    }

    /** Lets the topic take records of up to 1 MiB, and waits until its broker applies that. */
    private static void raiseMaxMessageBytes(String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()))) {
            admin.incrementalAlterConfigs(Map.of(
                            resource,
                            List.of(new AlterConfigOp(
                                    new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1048576"),
                                    AlterConfigOp.OpType.SET))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            await().atMost(TIMEOUT)
                    .until(() -> "1048576"
                            .equals(admin.describeConfigs(List.of(resource))
                                    .all()
                                    .get(30, TimeUnit.SECONDS)
                                    .get(resource)
                                    .get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG)
                                    .value()));
        }
    }

    @Test
    void aRecordThatFailsEveryAttemptIsDeadLetteredAfterTheMaximum() {
        this.store.insert(event(this.topic, "k", "{}"));
        OutboxRelay relay = new OutboxRelay(
                this.store,
                record -> CompletableFuture.failedFuture(new IllegalStateException("broker said no")),
                RelaySettings.builder()
                        .retry(Duration.ofMillis(1), 1.0, Duration.ofMillis(1))
                        .maxAttempts(3)
                        .build());
        DeadLetters deadLetters = new DeadLetters(this.store.dataSource(), this.store.dialect(), this.store.table());

        await().atMost(TIMEOUT).until(() -> relay.relayOnce().deadLettered() == 1);

        assertThat(this.store.count()).isZero();
        DeadLetter deadLetter = deadLetters.list(10).get(0);
        assertThat(deadLetter.attempts()).isEqualTo(3);
        assertThat(deadLetter.lastError()).contains("attempt 3 of 3").contains("broker said no");
        assertThat(deadLetters.discard(deadLetter.id())).isTrue();
        assertThat(deadLetters.count()).isZero();
    }

    @Test
    void aParkedKeyWithMoreWaitingRowsThanABatchDoesNotHoldUpOtherKeys() {
        for (int seq = 0; seq <= 12; seq++) {
            this.store.insert(event(this.topic, "poison", "{\"seq\":" + seq + "}"));
        }
        for (int n = 0; n < 3; n++) {
            this.store.insert(event(this.topic, "healthy-" + n, "{\"seq\":0}"));
        }
        RelaySettings settings = RelaySettings.builder().batchSize(5).build();
        OutboxRelay relay = new OutboxRelay(this.store, refusingFirstPoison(settings), settings);

        assertThat(relay.relayOnce().deadLettered()).isEqualTo(1);
        OutboxRelay.CycleResult next = relay.relayOnce();

        assertThat(next.published()).as("the other keys go at once").isEqualTo(3);
        assertThat(this.store.count()).as("the parked key's rows wait").isEqualTo(12);
    }

    @Test
    void aKeyWaitingForItsRetryWithMoreRowsThanABatchDoesNotHoldUpOtherKeys() {
        for (int seq = 0; seq < 12; seq++) {
            this.store.insert(event(this.topic, "flaky", "{\"seq\":" + seq + "}"));
        }
        for (int n = 0; n < 3; n++) {
            this.store.insert(event(this.topic, "healthy-" + n, "{\"seq\":0}"));
        }
        KafkaRecordPublisher kafka = kafkaPublisher(RelaySettings.defaults());
        RecordPublisher failingFlaky = record -> "flaky".equals(record.key())
                ? CompletableFuture.failedFuture(new IllegalStateException("broker said no"))
                : kafka.publish(record);
        OutboxRelay relay = new OutboxRelay(
                this.store,
                failingFlaky,
                RelaySettings.builder()
                        .batchSize(5)
                        .retry(Duration.ofMinutes(1), 2.0, Duration.ofMinutes(1))
                        .build());

        assertThat(relay.relayOnce().failed()).isEqualTo(1);
        OutboxRelay.CycleResult next = relay.relayOnce();

        assertThat(next.published()).isEqualTo(3);
        assertThat(next.failed())
                .as("the flaky key is not tried again before its retry")
                .isZero();
    }

    @Test
    void recordsTheSendTimeoutLeftUnsentCountNoAttempt() {
        for (int n = 0; n < 6; n++) {
            this.store.insert(event(this.topic, "key-" + n, "{}"));
        }
        // Each send blocks, as a producer does while it waits for the metadata of an unreachable broker.
        RecordPublisher blocking = record -> {
            try {
                Thread.sleep(400);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.failedFuture(new IllegalStateException("broker unreachable"));
        };
        OutboxRelay relay = new OutboxRelay(
                this.store,
                blocking,
                RelaySettings.builder().sendTimeout(Duration.ofSeconds(1)).build());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.failed()).isBetween(1, 3);
        assertThat(this.jdbc
                        .sql("SELECT count(*) FROM outbox_event WHERE attempts = 0")
                        .query(Long.class)
                        .single())
                .as("never sent, so never counted")
                .isEqualTo(6L - result.failed());
    }

    @Test
    void withParkingOffTheLaterEventsOfADeadLetteredKeyFlow() {
        OutboxStore unparked =
                new OutboxStore(this.store.dataSource(), this.store.dialect(), this.store.table(), false);
        unparked.insert(event(this.topic, "poison", "{\"seq\":0}"));
        unparked.insert(event(this.topic, "poison", "{\"seq\":1}"));
        RelaySettings settings = RelaySettings.defaults();
        OutboxRelay relay = new OutboxRelay(unparked, refusingFirstPoison(settings), settings);

        assertThat(relay.relayOnce().deadLettered()).isEqualTo(1);
        assertThat(relay.relayOnce().published()).isEqualTo(1);
    }

    /** Publishes to Kafka, but refuses the first event of key {@code poison} as one that can never be published. */
    private RecordPublisher refusingFirstPoison(RelaySettings settings) {
        KafkaRecordPublisher kafka = kafkaPublisher(settings);
        return new RecordPublisher() {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                boolean refused = "poison".equals(record.key())
                        && "{\"seq\":0}".equals(new String(record.payload(), StandardCharsets.UTF_8));
                return refused
                        ? CompletableFuture.failedFuture(new IllegalArgumentException("can never be published"))
                        : kafka.publish(record);
            }

            @Override
            public FailureKind classify(OutboxRecord record, Throwable error) {
                return error instanceof IllegalArgumentException
                        ? FailureKind.PERMANENT
                        : kafka.classify(record, error);
            }
        };
    }

    @Test
    void aRecordsTimestampIsWhenItsRowWasWrittenWhateverTheTimeZoneOfTheSessions() {
        // Sessions five hours east of UTC, and of this JVM's zone unless it is five hours east itself.
        assumeTrue(TimeZone.getDefault().getRawOffset() != 5 * 3_600_000, "this JVM runs five hours east of UTC");
        try (HikariDataSource shifted =
                this.database.inTimeZoneFiveHoursEast(((HikariDataSource) this.store.dataSource()).getJdbcUrl())) {
            OutboxStore store = new OutboxStore(shifted, this.store.dialect(), this.store.table());
            Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
            store.insert(OutboxTestTables.event(this.topic, "order-1", "{}"));
            Instant after = Instant.now();
            OutboxRelay relay =
                    new OutboxRelay(store, kafkaPublisher(RelaySettings.defaults()), RelaySettings.defaults());
            this.relays.add(relay);

            assertThat(relay.relayOnce().published()).isEqualTo(1);
            try (TopicReader reader = new TopicReader(this.topic)) {
                assertThat(Instant.ofEpochMilli(
                                reader.awaitRecords(1, TIMEOUT).get(0).timestamp()))
                        .isBetween(before.minusSeconds(1), after.plusSeconds(1));
            }
        }
    }

    private OutboxRelay newRelay(RelaySettings settings) {
        OutboxRelay relay = new OutboxRelay(this.store, kafkaPublisher(settings), settings);
        this.relays.add(relay);
        return relay;
    }

    private KafkaRecordPublisher kafkaPublisher(RelaySettings settings) {
        KafkaRecordPublisher publisher = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
        this.closeables.add(publisher);
        return publisher;
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
