package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStatistics;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What holds a key back, against each database: a key waiting for a retry or parked by a dead letter holds back
 * only itself, in its own topic, however many rows are queued behind it; and writers take turns per topic and key.
 * The claim's SQL decides the retries and parked keys, before its {@code LIMIT}, so only a real database shows them;
 * what {@link ClaimRule} decides after it has unit tests of its own ({@code ClaimRuleTests}).
 */
abstract class KeyHoldBackIntegrationTests {

    private static final int SLOTS = 4;

    /** More rows behind one waiting key than a claim reads behind its rows. */
    private static final int QUEUED_BEHIND = OutboxDialect.CLAIM_LOOK_BEHIND + 1_000;

    private OutboxStore store;

    private CycleStore cycles;

    private JdbcClient jdbc;

    private TransactionTemplate transactions;

    private final ExecutorService executor = Executors.newFixedThreadPool(2);

    private final TestDatabase database;

    KeyHoldBackIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTable() {
        this.store = OutboxTestTables.newStore(this.database);
        this.cycles = new CycleStore(this.store);
        this.jdbc = JdbcClient.create(this.store.dataSource());
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
        // As the relay's cycles run: MariaDB's default is REPEATABLE READ.
        this.transactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
    }

    @AfterEach
    void stopThreads() {
        this.executor.shutdownNow();
    }

    @Test
    void aKeyWaitingForItsRetryWithMoreRowsBehindItThanTheClaimReadsBehindDoesNotHoldBackOtherKeys() {
        this.store.insert(event("t", "stuck", "{}"));
        this.jdbc
                .sql("UPDATE outbox_event SET attempts = 1, next_attempt_at = " + this.database.now()
                        + " + INTERVAL '1' HOUR")
                .update();
        queueBehind("t", "stuck", QUEUED_BEHIND);
        List<Long> healthy = insertHealthyKeys();

        CycleStore.Claim claim = claim(100);

        assertThat(claim.records())
                .as("the fresh rows of ten healthy keys, none of the rows behind the waiting key")
                .extracting(OutboxRecord::id)
                .containsExactlyElementsOf(healthy);
    }

    @Test
    void aParkedKeyWithMoreRowsBehindItThanTheClaimReadsBehindDoesNotHoldBackOtherKeys() {
        deadLetter(-1, "t", "parked");
        queueBehind("t", "parked", QUEUED_BEHIND);
        List<Long> healthy = insertHealthyKeys();

        CycleStore.Claim claim = claim(100);

        assertThat(claim.records()).extracting(OutboxRecord::id).containsExactlyElementsOf(healthy);
    }

    @Test
    void rowsBehindAKeyWaitingForItsRetryOrBehindAParkedKeyAreNotLag() {
        insertCreatedAgo("t", "retrying", Duration.ofHours(3));
        this.jdbc
                .sql("UPDATE outbox_event SET attempts = 1, next_attempt_at = " + this.database.now()
                        + " + INTERVAL '1' HOUR")
                .update();
        insertCreatedAgo("t", "retrying", Duration.ofHours(2));
        deadLetter(-1, "t", "parked");
        insertCreatedAgo("t", "parked", Duration.ofHours(2));
        Instant healthy = insertCreatedAgo("t", "healthy", Duration.ofMinutes(1));

        OutboxStatistics statistics = this.store.statistics();

        assertThat(statistics.waiting()).isEqualTo(4);
        assertThat(statistics.oldestCreatedAt())
                .as("the oldest row the relay could publish now")
                .isEqualTo(healthy);
    }

    @Test
    void aDeadLetterOfAKeyInOneTopicDoesNotHoldBackThatKeyInAnotherTopic() {
        deadLetter(-1, "customers", "42");
        this.store.insert(event("customers", "42", "{}"));
        this.store.insert(event("orders", "42", "{}"));

        CycleStore.Claim claim = claim(10);

        assertThat(claim.records())
                .extracting(OutboxRecord::topic, OutboxRecord::key)
                .containsExactly(tuple("orders", "42"));
        assertThat(this.store.statistics().parkedKeys()).isEqualTo(1);
        deadLetter(-2, "orders", "42");
        deadLetter(-3, "orders", "42");
        assertThat(this.store.statistics().parkedKeys())
                .as("key 42 in two topics")
                .isEqualTo(2);
    }

    @Test
    void aRetryOfAKeyInOneTopicDoesNotHoldBackThatKeyInAnotherTopic() {
        this.store.insert(event("customers", "42", "{}"));
        this.jdbc
                .sql("UPDATE outbox_event SET attempts = 1, next_attempt_at = " + this.database.now()
                        + " + INTERVAL '1' HOUR")
                .update();
        this.store.insert(event("customers", "42", "{}"));
        this.store.insert(event("orders", "42", "{}"));

        CycleStore.Claim claim = claim(10);

        assertThat(claim.records())
                .extracting(OutboxRecord::topic, OutboxRecord::key)
                .containsExactly(tuple("orders", "42"));
    }

    @Test
    void aKeyHeldByAnotherClaimInOneTopicIsNotHeldBackInAnotherTopic() throws Exception {
        this.store.insert(event("customers", "42", "{}"));
        this.store.insert(event("orders", "42", "{}"));
        this.store.insert(event("customers", "42", "{}"));
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<CycleStore.Claim> other = this.executor.submit(() -> this.transactions.execute(status -> {
            CycleStore.Claim first = this.cycles.claim(1, SLOTS);
            claimed.countDown();
            await(release);
            return first;
        }));
        try {
            assertThat(claimed.await(30, TimeUnit.SECONDS)).isTrue();

            CycleStore.Claim claim = claim(10);

            assertThat(claim.locked()).isEqualTo(2);
            assertThat(claim.records())
                    .as("row 3 waits for row 1 of its topic and key, which another claim holds; row 2 does not")
                    .extracting(OutboxRecord::id, OutboxRecord::topic)
                    .containsExactly(tuple(2L, "orders"));
        } finally {
            release.countDown();
        }
        assertThat(other.get(30, TimeUnit.SECONDS).records())
                .extracting(OutboxRecord::id)
                .containsExactly(1L);
    }

    @Test
    void writersOfOneKeyInTwoTopicsDoNotWaitForEachOtherButWritersOfOneTopicAndKeyDo() throws Exception {
        CountDownLatch inserted = new CountDownLatch(1);
        CountDownLatch commit = new CountDownLatch(1);
        Future<?> customers = this.executor.submit(() -> this.transactions.executeWithoutResult(status -> {
            this.store.insert(event("customers", "42", "{}"));
            inserted.countDown();
            await(commit);
        }));
        try {
            assertThat(inserted.await(30, TimeUnit.SECONDS)).isTrue();

            Future<?> orders = this.executor.submit(() ->
                    this.transactions.executeWithoutResult(status -> this.store.insert(event("orders", "42", "{}"))));
            orders.get(30, TimeUnit.SECONDS);

            Future<?> secondCustomers = this.executor.submit(() -> this.transactions.executeWithoutResult(
                    status -> this.store.insert(event("customers", "42", "{}"))));
            Awaitility.await()
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> this.database.sessionsWaitingForKeyLocks(this.jdbc) == 1);
            assertThat(secondCustomers.isDone())
                    .as("the second writer of key 42 in customers waits for the first")
                    .isFalse();
            commit.countDown();
            customers.get(30, TimeUnit.SECONDS);
            secondCustomers.get(30, TimeUnit.SECONDS);
        } finally {
            commit.countDown();
        }
        assertThat(this.jdbc
                        .sql("SELECT topic FROM outbox_event ORDER BY id")
                        .query(String.class)
                        .list())
                .as("the writer of orders committed while the first writer of customers was still open")
                .containsExactly("customers", "orders", "customers");
    }

    @Test
    void theIndexesOfRowsWaitingForARetryAndOfDeadLettersAreOrderedByTopicKeyAndId() {
        if (this.database != TestDatabase.POSTGRESQL) {
            // No partial indexes: the retry index holds a hash of the topic and key of the rows that wait for a
            // retry, NULL for the others, and then their id.
            assertThat(indexColumns("outbox_event", "outbox_event_retry_idx")).containsExactly("retry_key_hash", "id");
            assertThat(indexColumns("outbox_event_dead_letter", "outbox_event_dead_letter_key_idx"))
                    .containsExactly("topic", "record_key", "id");
            return;
        }
        assertThat(this.jdbc
                        .sql("SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN"
                                + " ('outbox_event_retry_key_id_idx', 'outbox_event_dead_letter_key_idx')")
                        .query((rs, row) -> List.of(rs.getString(1), rs.getString(2)))
                        .list())
                .hasSize(2)
                .allSatisfy(index -> assertThat(index.get(1)).contains("(topic, record_key, id)"));
    }

    private List<String> indexColumns(String table, String index) {
        return this.jdbc
                .sql("SELECT column_name FROM information_schema.statistics WHERE table_schema = DATABASE()"
                        + " AND table_name = ? AND index_name = ? ORDER BY seq_in_index")
                .params(table, index)
                .query(String.class)
                .list();
    }

    private CycleStore.Claim claim(int limit) {
        return this.transactions.execute(status -> this.cycles.claim(limit, SLOTS));
    }

    private void queueBehind(String topic, String key, int rows) {
        this.jdbc
                .sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                        SELECT %s, ?, ?, 'TestEvent', NULL, '{}' FROM %s
                        """.formatted(this.database.randomUuid(), this.database.series(rows)))
                .params(topic, key)
                .update();
    }

    /** Two fresh rows of each of ten keys; returns their ids. */
    private List<Long> insertHealthyKeys() {
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 10; i++) {
                this.store.insert(event("t", "healthy-" + i, "{}"));
            }
        }
        return this.jdbc
                .sql("SELECT id FROM outbox_event WHERE record_key LIKE 'healthy-%' ORDER BY id")
                .query(Long.class)
                .list();
    }

    private Instant insertCreatedAgo(String topic, String key, Duration age) {
        Instant createdAt = Instant.now().minus(age).truncatedTo(ChronoUnit.MICROS);
        this.jdbc
                .sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, headers, created_at)
                        VALUES (%s, ?, ?, 'TestEvent', '{}', ?)
                        """.formatted(this.database.randomUuid()))
                .params(topic, key, this.database.timestamp(createdAt))
                .update();
        return createdAt;
    }

    private void deadLetter(long id, String topic, String key) {
        this.jdbc
                .sql("""
                        INSERT INTO outbox_event_dead_letter
                            (id, event_id, topic, record_key, event_type, headers, created_at, attempts, last_error)
                        VALUES (?, %s, ?, ?, 'TestEvent', '{}', %s, 10, 'failed')
                        """.formatted(this.database.randomUuid(), this.database.now()))
                .params(id, topic, key)
                .update();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
