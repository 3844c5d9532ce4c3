package dev.txoutbox.store;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The outbox table's SQL against each database: writes, migrations, the checks of the tables, and the plan of the
 * dialect's claim. What a relay's cycle does to the table is in {@code CycleStoreIntegrationTests}.
 */
abstract class OutboxStoreIntegrationTests {

    private final TestDatabase database;

    private OutboxStore store;

    private TransactionTemplate transactions;

    OutboxStoreIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTable() {
        this.store = OutboxTestTables.newStore(this.database);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
    }

    @Test
    void rowsAreReadWithPayloadsAndHeadersAsTheCallersTransactionSeesThem() {
        this.store.insert(event("t", "committed", "{\"n\":1}"));
        long committed = this.store.highestId();
        NewRecord tombstone =
                new NewRecord(UUID.randomUUID(), "u", "gone", "Deleted", null, Map.of("tenant", "acme", "v", "2"));

        List<OutboxRow> inTransaction = this.transactions.execute(status -> {
            this.store.insert(tombstone);
            this.store.insert(event("t", null, "{\"n\":3}"));
            List<OutboxRow> rows = this.store.rows(committed, 10);
            status.setRollbackOnly();
            return rows;
        });

        assertThat(inTransaction).hasSize(2);
        OutboxRow first = inTransaction.get(0);
        assertThat(first.id()).isGreaterThan(committed);
        assertThat(first.eventId()).isEqualTo(tombstone.eventId());
        assertThat(first.topic()).isEqualTo("u");
        assertThat(first.key()).isEqualTo("gone");
        assertThat(first.eventType()).isEqualTo("Deleted");
        assertThat(first.payload()).isNull();
        assertThat(first.headers()).isEqualTo(Map.of("tenant", "acme", "v", "2"));
        assertThat(first.attempts()).isZero();
        assertThat(first.lastError()).isNull();
        assertThat(new String(inTransaction.get(1).payload(), StandardCharsets.UTF_8))
                .isEqualTo("{\"n\":3}");
        assertThat(inTransaction.get(1).key()).isNull();
        assertThat(inTransaction.get(1).headers()).isEmpty();
        // Rolled back: outside the transaction only the committed row is there.
        assertThat(this.store.rows(0, 10)).extracting(OutboxRow::key).containsExactly("committed");
        assertThat(this.store.rows(committed, 10)).isEmpty();
        assertThat(this.store.highestId()).isEqualTo(committed);
    }

    @Test
    void writersOfOneKeyTakeTurnsSoThatIdsFollowCommitOrder() throws Exception {
        CountDownLatch firstInserted = new CountDownLatch(1);
        CountDownLatch commitFirst = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        try {
            Future<?> first = executor.submit(() -> this.transactions.executeWithoutResult(status -> {
                this.store.insert(event("t", "order-1", "{\"n\":1}"));
                firstInserted.countDown();
                await(commitFirst);
            }));
            assertThat(firstInserted.await(10, TimeUnit.SECONDS)).isTrue();
            Future<?> second = executor.submit(() -> this.transactions.executeWithoutResult(
                    status -> this.store.insert(event("t", "order-1", "{\"n\":2}"))));
            this.store.insert(event("t", "order-2", "{\"n\":3}"));

            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> this.database.sessionsWaitingForLocks(jdbc) == 1);
            assertThat(second.isDone()).as("the second writer of order-1 waits").isFalse();
            commitFirst.countDown();
            first.get(10, TimeUnit.SECONDS);
            second.get(10, TimeUnit.SECONDS);

            assertThat(jdbc.sql("SELECT payload FROM outbox_event WHERE record_key = 'order-1' ORDER BY id")
                            .query((rs, row) -> new String(rs.getBytes(1), StandardCharsets.UTF_8))
                            .list())
                    .containsExactly("{\"n\":1}", "{\"n\":2}");
        } finally {
            commitFirst.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void aWriterHoldsTheKeyLockRowThatTheDialectNamesUntilItCommits() throws Exception {
        assumeTrue(this.database != TestDatabase.POSTGRESQL, "PostgreSQL's advisory locks take no row");
        // The writer refuses to wait for its own suspended transaction by comparing keyLock(..): it must name exactly
        // the row that an insert of the key locks, and no other. On MariaDB, the row is also the one the server's
        // MD5 gives, as older instances computed it (MariaDbKeyLockTests pins it for MySQL 9, which has no MD5()).
        String keyLocks = this.store.table().keyLocks().toString();
        DataSource dataSource = this.store.dataSource();
        for (List<String> topicKey : List.of(
                List.of("orders", "order-1"), List.of("заказы", "ключ-7"), List.of("t", "k😀"), List.of("t", "é"))) {
            Object lock = this.store.dialect().keyLock(topicKey.get(0), topicKey.get(1));
            Object neighbour = ((Integer) lock + 1) % 65_536;
            if (this.database == TestDatabase.MARIADB) {
                assertThat(JdbcClient.create(dataSource)
                                .sql("SELECT CAST(CONV(LEFT(MD5(CONCAT(?, ' ', ?)), 4), 16, 10) AS UNSIGNED)")
                                .params(topicKey.get(0), topicKey.get(1))
                                .query(Integer.class)
                                .single())
                        .as("the row the server's MD5 of %s names", topicKey)
                        .isEqualTo(lock);
            }
            this.transactions.executeWithoutResult(status -> {
                this.store.insert(event(topicKey.get(0), topicKey.get(1), "{\"n\":1}"));
                assertThat(lockedElsewhere(dataSource, keyLocks, lock))
                        .as("the key-lock row %s of %s, while its writer's transaction is open", lock, topicKey)
                        .isTrue();
                assertThat(lockedElsewhere(dataSource, keyLocks, neighbour))
                        .as("the key-lock row next to it")
                        .isFalse();
            });
            assertThat(lockedElsewhere(dataSource, keyLocks, lock))
                    .as("the key-lock row of %s after its writer committed", topicKey)
                    .isFalse();
        }
    }

    /** Whether another transaction than the caller's holds a key-lock row, as a second connection finds it. */
    private static boolean lockedElsewhere(DataSource dataSource, String keyLocks, Object bucket) {
        try (Connection other = dataSource.getConnection()) {
            other.setAutoCommit(false);
            try {
                return JdbcClient.create(new SingleConnectionDataSource(other, true))
                        .sql("SELECT bucket FROM " + keyLocks + " WHERE bucket = ? FOR UPDATE SKIP LOCKED")
                        .param(bucket)
                        .query(Integer.class)
                        .optional()
                        .isEmpty();
            } finally {
                other.rollback();
            }
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void keysThatTheDialectSaysShareALockWaitForEachOtherAndOthersDoNot() throws Exception {
        // The writer refuses to wait for its own suspended transaction by comparing keyLock(..): it must name exactly
        // the lock that the database takes. PostgreSQL's are 64-bit hashes, and no two keys within reach share one.
        OutboxDialect dialect = this.store.dialect();
        Object lock = dialect.keyLock("t", "first");
        String sharing = IntStream.range(0, 2_000_000)
                .mapToObj(i -> "other-" + i)
                .filter(key -> dialect.keyLock("t", key).equals(lock))
                .findFirst()
                .orElse(null);
        assumeTrue(sharing != null, "no other key shares the lock of a key on " + dialect.productName());
        String apart = IntStream.range(0, 1000)
                .mapToObj(i -> "apart-" + i)
                .filter(key -> !dialect.keyLock("t", key).equals(lock))
                .findFirst()
                .orElseThrow();

        CountDownLatch firstInserted = new CountDownLatch(1);
        CountDownLatch commitFirst = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        try {
            Future<?> first = executor.submit(() -> this.transactions.executeWithoutResult(status -> {
                this.store.insert(event("t", "first", "{}"));
                firstInserted.countDown();
                await(commitFirst);
            }));
            assertThat(firstInserted.await(10, TimeUnit.SECONDS)).isTrue();
            this.transactions.executeWithoutResult(status -> this.store.insert(event("t", apart, "{}")));
            Future<?> second = executor.submit(() ->
                    this.transactions.executeWithoutResult(status -> this.store.insert(event("t", sharing, "{}"))));

            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> this.database.sessionsWaitingForLocks(jdbc) == 1);
            assertThat(second.isDone())
                    .as("the writer of '%s' waits for the writer of 'first'", sharing)
                    .isFalse();
            commitFirst.countDown();
            first.get(10, TimeUnit.SECONDS);
            second.get(10, TimeUnit.SECONDS);
        } finally {
            commitFirst.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void theClaimReadsTheOutboxOnlyThroughItsIndexesBeforeTheTableWasEverAnalyzedAndWithManyDeadLetters() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "PostgreSQL's planner");
        // A new table keeps no statistics until autovacuum analyzes it, after 50,000 changed rows; without them
        // PostgreSQL expects a third of the rows to match any condition on a column, and would answer "does any row
        // wait for a retry?" with a sequential scan of the whole table in every claim.
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        jdbc.sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload)
                        SELECT gen_random_uuid(), 't', 'key-' || (n % 100), 'E', convert_to(repeat('x', 1000), 'UTF8')
                        FROM generate_series(1, 5000) AS n
                        """).update();
        jdbc.sql("UPDATE outbox_event SET next_attempt_at = now() + interval '1 minute' WHERE id % 100 = 0")
                .update();
        assertThat(jdbc.sql("SELECT reltuples FROM pg_class WHERE relname = 'outbox_event'")
                        .query(Float.class)
                        .single())
                .as("never analyzed")
                .isEqualTo(-1f);

        assertClaimReadsTheOutboxThroughItsIndexes(jdbc);

        // Many dead letters, after an outage say: an anti-join against them would hash them and read the whole
        // outbox, sorting it, in every claim.
        jdbc.sql("""
                        INSERT INTO outbox_event_dead_letter
                            (id, event_id, topic, record_key, event_type, created_at, attempts, last_error)
                        SELECT -n, gen_random_uuid(), 't', 'parked-' || n, 'E', now(), 10, 'failed'
                        FROM generate_series(1, 10000) AS n
                        """).update();
        jdbc.sql("ANALYZE outbox_event").update();
        jdbc.sql("ANALYZE outbox_event_dead_letter").update();
        assertClaimReadsTheOutboxThroughItsIndexes(jdbc);
    }

    private void assertClaimReadsTheOutboxThroughItsIndexes(JdbcClient jdbc) {
        for (boolean parkKeys : List.of(true, false)) {
            List<String> plan = jdbc.sql("EXPLAIN " + OutboxDialects.postgres().claim(this.store.table(), parkKeys))
                    .param("limit", 500)
                    .param("maxBytes", Long.MAX_VALUE)
                    .query(String.class)
                    .list();
            assertThat(plan)
                    .as("plan of the claim (parked keys: %s):%n%s", parkKeys, String.join("\n", plan))
                    .noneMatch(line -> line.contains("Seq Scan on outbox_event "));
        }
    }

    @Test
    void theClaimReadsTheOutboxThroughItsPrimaryKeyWithManyRowsWaitingAndManyDeadLetters() {
        assumeTrue(this.database != TestDatabase.POSTGRESQL, "MariaDB's and MySQL's optimizers");
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        jdbc.sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                        SELECT UUID(), 't', CONCAT('key-', MOD(g.n, 100)), 'E', REPEAT('x', 1000), '{}'
                        FROM %s
                        """.formatted(this.database.series(5000))).update();
        jdbc.sql("UPDATE outbox_event SET next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL 1 MINUTE WHERE id % 100 = 0")
                .update();
        jdbc.sql("""
                        INSERT INTO outbox_event_dead_letter
                            (id, event_id, topic, record_key, event_type, headers, created_at, attempts, last_error)
                        SELECT -g.n, UUID(), 't', CONCAT('parked-', g.n), 'E', '{}', UTC_TIMESTAMP(6), 10, 'failed'
                        FROM %s
                        """.formatted(this.database.series(10_000))).update();
        for (boolean parkKeys : List.of(true, false)) {
            // MySQL 9 explains as a tree by default; the traditional table has the same columns as MariaDB's.
            String explain = this.database == TestDatabase.MYSQL ? "EXPLAIN FORMAT=TRADITIONAL " : "EXPLAIN ";
            List<String> plan = jdbc.sql(explain + this.database.dialect().claim(this.store.table(), parkKeys))
                    .param("limit", 500)
                    .param("maxBytes", Long.MAX_VALUE)
                    .query((rs, row) -> rs.getString("table") + " " + rs.getString("type") + " " + rs.getString("key"))
                    .list();
            assertThat(plan)
                    .as("plan of the claim (parked keys: %s):%n%s", parkKeys, String.join("\n", plan))
                    .filteredOn(line -> !line.startsWith("<derived"))
                    .as("every table of the claim is read through an index: %n%s", String.join("\n", plan))
                    .noneMatch(line -> line.contains(" ALL "));
            assertThat(plan)
                    .as(
                            "an earlier row of a key that waits for its retry is looked up by the key's hash, however many"
                                    + " rows of other keys wait: %n%s",
                            String.join("\n", plan))
                    .anyMatch(line -> line.startsWith("w ref ") && line.endsWith("outbox_event_retry_idx"));
        }
    }

    @Test
    void migrationsUseTheConfiguredTableAndTheirOwnHistoryTable() {
        DataSource dataSource = this.database.newDatabase();
        JdbcClient jdbc = JdbcClient.create(dataSource);
        jdbc.sql("CREATE TABLE flyway_schema_history (installed_rank int)").update();

        OutboxMigrations.migrate(
                dataSource, this.database.dialect(), new TableName("orders_outbox"), new TableName("my_history"));

        OutboxStore custom = new OutboxStore(dataSource, this.database.dialect(), new TableName("orders_outbox"));
        custom.verifyTable();
        assertThat(jdbc.sql("SELECT count(*) FROM my_history WHERE success")
                        .query(Long.class)
                        .single())
                .isPositive();
        assertThat(jdbc.sql("SELECT count(*) FROM flyway_schema_history")
                        .query(Long.class)
                        .single())
                .as("the application's own history is left alone")
                .isZero();
        if (this.database != TestDatabase.POSTGRESQL) {
            assertThat(jdbc.sql("SELECT DISTINCT index_name FROM information_schema.statistics"
                                    + " WHERE table_schema = DATABASE() AND table_name = 'orders_outbox'")
                            .query(String.class)
                            .list())
                    .as("an insert maintains only the indexes that statements read")
                    .containsExactlyInAnyOrder("PRIMARY", "orders_outbox_event_id_key", "orders_outbox_retry_idx");
            return;
        }
        assertThat(jdbc.sql("SELECT unnest(reloptions) FROM pg_class WHERE relname = 'orders_outbox'")
                        .query(String.class)
                        .list())
                .as("the queue table vacuums itself by a number of dead rows")
                .contains("autovacuum_vacuum_scale_factor=0", "autovacuum_vacuum_threshold=10000");
        assertThat(jdbc.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'orders_outbox'")
                        .query(String.class)
                        .list())
                .as("an insert maintains only the indexes that statements read")
                .containsExactlyInAnyOrder(
                        "orders_outbox_pkey", "orders_outbox_event_id_key", "orders_outbox_retry_key_id_idx");
    }

    @Test
    void verifyTableNamesTheMissingTable() {
        DataSource dataSource = this.database.newDatabase();
        OutboxStore missing = new OutboxStore(dataSource, this.database.dialect(), new TableName("outbox_event"));

        assertThatThrownBy(missing::verifyTable)
                .isInstanceOf(OutboxTableMissingException.class)
                .hasMessageContaining("'outbox_event'");
    }

    @Test
    void detectsTheDatabase() {
        assertThat(OutboxDialects.detect(this.store.dataSource())).isSameAs(this.database.dialect());
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
