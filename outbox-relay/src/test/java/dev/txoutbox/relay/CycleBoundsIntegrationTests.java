package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The bounds of a relay cycle's transaction, against each database: in bytes, in the server's timeouts (PostgreSQL's,
 * which can be set for one transaction), and the deletion of acknowledged rows outside it.
 */
abstract class CycleBoundsIntegrationTests {

    private static final int SLOTS = 4;

    private static final int KIB = 1024;

    private OutboxStore store;

    private CycleStore cycles;

    private JdbcClient jdbc;

    private TransactionTemplate transactions;

    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    private final TestDatabase database;

    CycleBoundsIntegrationTests(TestDatabase database) {
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
    void aClaimReturnsTheRowsThatFitItsByteBudgetAndKeepsTheRestLockedForTheNextClaim() throws Exception {
        for (int i = 0; i < 5; i++) {
            insertPayloadOf("k" + i, 100 * KIB);
        }

        CycleStore.Claim first = this.transactions.execute(status -> {
            CycleStore.Claim claim = this.cycles.claim(10, 250 * KIB, SLOTS, Duration.ofMinutes(1), false);
            CycleStore.Claim meanwhile = claimElsewhere();
            assertThat(meanwhile.locked())
                    .as("the rows past the budget stay locked by the first claim")
                    .isZero();
            this.cycles.delete(claim.records().stream().map(OutboxRecord::id).toList());
            return claim;
        });

        assertThat(first.locked()).isEqualTo(5);
        assertThat(first.records())
                .as("two rows of 100 KiB (with their keys and headers) fit 250 KiB, three do not")
                .extracting(OutboxRecord::id)
                .containsExactly(1L, 2L);
        assertThat(first.records())
                .allSatisfy(record -> assertThat(record.payload()).hasSize(100 * KIB));
        assertThat(this.transactions
                        .execute(status -> this.cycles.claim(10, 250 * KIB, SLOTS, Duration.ofMinutes(1), false))
                        .records())
                .extracting(OutboxRecord::id)
                .containsExactly(3L, 4L);
    }

    @Test
    void aRowLargerThanTheByteBudgetIsStillClaimedAlone() {
        insertPayloadOf("big", 300 * KIB);
        insertPayloadOf("small", 1);
        insertPayloadOf("small", 1);

        CycleStore.Claim claim = this.transactions.execute(
                status -> this.cycles.claim(10, 250 * KIB, SLOTS, Duration.ofMinutes(1), false));

        assertThat(claim.locked()).isEqualTo(3);
        assertThat(claim.records()).extracting(OutboxRecord::key).containsExactly("big");
    }

    @Test
    void aCycleOutlastsTheDatabasesIdleInTransactionAndTransactionTimeouts() {
        assumeTrue(
                this.database == TestDatabase.POSTGRESQL,
                "MariaDB's idle_transaction_timeout is the server's or a session's, never one transaction's: the"
                        + " relay cannot lift it for its cycles, and the server's must stay off or above their bound");
        String url = EmbeddedInfrastructure.newDatabaseUrl();
        try (HikariDataSource admin = EmbeddedInfrastructure.dataSource(url, "admin")) {
            OutboxTestTables.migratedStore(admin).insert(event("t", "k", "{}"));
            JdbcClient adminJdbc = JdbcClient.create(admin);
            String database = adminJdbc
                    .sql("SELECT current_database()")
                    .query(String.class)
                    .single();
            adminJdbc
                    .sql("ALTER DATABASE " + database + " SET idle_in_transaction_session_timeout = '300ms'")
                    .update();
            adminJdbc
                    .sql("ALTER DATABASE " + database + " SET transaction_timeout = '300ms'")
                    .update();
        }
        try (HikariDataSource relay = EmbeddedInfrastructure.dataSource(url, "relay")) {
            OutboxStore store = new OutboxStore(relay, OutboxDialects.postgres(), new TableName(TableName.DEFAULT));
            CycleStore cycles = new CycleStore(store);
            assertThat(JdbcClient.create(relay)
                            .sql("SELECT current_setting('idle_in_transaction_session_timeout')")
                            .query(String.class)
                            .single())
                    .isEqualTo("300ms");

            int deleted = new TransactionTemplate(new DataSourceTransactionManager(relay)).execute(status -> {
                List<OutboxRecord> records = cycles.claim(10, Long.MAX_VALUE, SLOTS, Duration.ofSeconds(30), false)
                        .records();
                // What waiting for the broker's acknowledgements looks like to the database: an idle transaction.
                LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
                return cycles.delete(records.stream().map(OutboxRecord::id).toList());
            });

            assertThat(deleted).isEqualTo(1);
            assertThat(store.count()).as("the delete committed").isZero();
        }
    }

    @Test
    void deleteUnlockedDeletesTheRowsNoOtherTransactionHoldsWithoutWaitingForTheOthers() throws Exception {
        for (int i = 0; i < 3; i++) {
            this.store.insert(event("t", "k" + i, "{}"));
        }
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<?> holder = this.executor.submit(() -> this.transactions.executeWithoutResult(status -> {
            this.jdbc
                    .sql("SELECT id FROM outbox_event WHERE id = 2 FOR UPDATE")
                    .query()
                    .listOfRows();
            locked.countDown();
            await(release);
        }));
        try {
            assertThat(locked.await(30, TimeUnit.SECONDS)).isTrue();

            int deleted = this.cycles.deleteUnlocked(List.of(1L, 2L, 3L, 4L));

            assertThat(deleted).isEqualTo(2);
        } finally {
            release.countDown();
        }
        holder.get(30, TimeUnit.SECONDS);
        assertThat(this.jdbc
                        .sql("SELECT id FROM outbox_event")
                        .query(Long.class)
                        .list())
                .containsExactly(2L);
    }

    private CycleStore.Claim claimElsewhere() {
        try {
            return this.executor
                    .submit(() -> this.transactions.execute(status -> this.cycles.claim(10, SLOTS)))
                    .get(30, TimeUnit.SECONDS);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    private void insertPayloadOf(String key, int bytes) {
        this.store.insert(new NewRecord(UUID.randomUUID(), "t", key, "TestEvent", new byte[bytes], Map.of()));
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
