package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static dev.txoutbox.testing.Reflection.invoke;
import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What a relay's cycle does to the outbox table, against each database: claims, cycle slots, deletes, failures, dead
 * letters and vacuums.
 */
abstract class CycleStoreIntegrationTests {

    /** Cycle slots per table: more than the claims any test holds at once, unless it says otherwise. */
    private static final int SLOTS = 4;

    private OutboxStore store;

    private CycleStore cycles;

    private TransactionTemplate transactions;

    private final TestDatabase database;

    CycleStoreIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTable() {
        this.store = OutboxTestTables.newStore(this.database);
        this.cycles = new CycleStore(this.store);
        this.transactions = new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
        // As the relay's cycles run: MariaDB's default is REPEATABLE READ.
        this.transactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
    }

    @Test
    void aCycleCommitsWithoutWaitingForItsFlushUnlessAskedToWait() {
        assumeTrue(
                this.database == TestDatabase.POSTGRESQL,
                "MariaDB cannot set a commit's durability for one transaction: innodb_flush_log_at_trx_commit is the"
                        + " server's");
        this.store.insert(event("t", "k", "{}"));
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        Supplier<String> setting =
                () -> jdbc.sql("SHOW synchronous_commit").query(String.class).single();
        String serverSetting = setting.get();

        String waiting = this.transactions.execute(status -> {
            jdbc.sql("SET LOCAL synchronous_commit = remote_apply").update();
            this.cycles.claim(10, Long.MAX_VALUE, SLOTS, Duration.ofMinutes(1), true);
            return setting.get();
        });
        String notWaiting = this.transactions.execute(status -> {
            jdbc.sql("SET LOCAL synchronous_commit = remote_apply").update();
            this.cycles.claim(10, Long.MAX_VALUE, SLOTS, Duration.ofMinutes(1), false);
            return setting.get();
        });

        assertThat(waiting)
                .as("a cycle asked to wait for its flush keeps what the server and the session say")
                .isEqualTo("remote_apply");
        assertThat(notWaiting).isEqualTo("off");
        assertThat(setting.get()).as("for the cycle's transaction only").isEqualTo(serverSetting);
    }

    @Test
    void aClaimInATransactionAtAnotherIsolationLevelClaimsNothingAndSaysWhichLevel() {
        assumeTrue(
                this.cycles.reportsIsolation(),
                "MariaDB's claim does not report the isolation level: every cycle sets READ COMMITTED");
        this.store.insert(event("t", "k", "{}"));
        TransactionTemplate repeatableRead =
                new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
        repeatableRead.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            List<OutboxRecord> claimedMeanwhile = repeatableRead.execute(status -> {
                assertThatExceptionOfType(NotReadCommittedException.class)
                        .isThrownBy(() -> this.cycles.checkingIsolation(() -> this.cycles.claim(10, SLOTS)))
                        .satisfies(ex -> assertThat(ex.isolation())
                                .isEqualTo(
                                        this.database == TestDatabase.POSTGRESQL
                                                ? "repeatable read"
                                                : "REPEATABLE-READ"));
                // Still in that transaction, which holds no row (its cycle slot goes with its rollback).
                Future<List<OutboxRecord>> other = executor.submit(() -> this.transactions
                        .execute(transaction -> this.cycles.claim(10, SLOTS))
                        .records());
                try {
                    return other.get(10, TimeUnit.SECONDS);
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });
            assertThat(claimedMeanwhile).extracting(OutboxRecord::topic).containsExactly("t");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void aClaimThatIsNotAskedToCheckTheIsolationLevelClaimsAtWhateverLevelItsTransactionHas() {
        this.store.insert(event("t", "k", "{}"));
        TransactionTemplate repeatableRead =
                new TransactionTemplate(new DataSourceTransactionManager(this.store.dataSource()));
        repeatableRead.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);

        CycleStore.Claim claim = repeatableRead.execute(status -> this.cycles.claim(10, SLOTS));

        assertThat(claim.records()).extracting(OutboxRecord::topic).containsExactly("t");
    }

    @Test
    void claimReturnsRowsInIdOrder() {
        for (int i = 0; i < 5; i++) {
            this.store.insert(event("t", "k" + (i % 2), "{}"));
        }

        CycleStore.Claim claim = this.transactions.execute(status -> this.cycles.claim(10, SLOTS));

        assertThat(claim.locked()).isEqualTo(5);
        assertThat(claim.records()).extracting(OutboxRecord::id).isSorted().hasSize(5);
    }

    @Test
    void anIdClaimReturnsTheRowsInTheOrderOfTheIdsAndTakesARowGivenTwiceOnce() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "log mode reads PostgreSQL's log");
        List<Long> ids = insertRows("k", "k", "other");

        CycleStore.IdClaim claim = this.transactions.execute(status -> claimIds(ids.get(2), ids.get(1), ids.get(0)));
        CycleStore.IdClaim twice = this.transactions.execute(status -> claimIds(ids.get(0), ids.get(2), ids.get(0)));

        assertThat(claim.claim().records())
                .extracting(OutboxRecord::id)
                .containsExactly(ids.get(2), ids.get(1), ids.get(0));
        assertThat(twice.claim().records()).extracting(OutboxRecord::id).containsExactly(ids.get(0), ids.get(2));
        assertThat(twice.claim().locked()).isEqualTo(2);
    }

    @Test
    void anIdClaimPutsTheRowsOfAKeyTriedBeforeFirstOfTheirKeyInIdOrder() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "log mode reads PostgreSQL's log");
        List<Long> ids = insertRows("k", "k", "other", "k");
        // As a requeued dead letter: it has an error, and commits again after the rows of its key that waited for it.
        JdbcClient.create(this.store.dataSource())
                .sql("UPDATE outbox_event SET last_error = 'refused before' WHERE id IN (:ids)")
                .param("ids", List.of(ids.get(0), ids.get(1)))
                .update();

        CycleStore.IdClaim claim =
                this.transactions.execute(status -> claimIds(ids.get(2), ids.get(3), ids.get(1), ids.get(0)));

        assertThat(claim.claim().records())
                .extracting(OutboxRecord::id)
                .containsExactly(ids.get(2), ids.get(0), ids.get(1), ids.get(3));
    }

    @Test
    void claimSkipsRowsAnotherTransactionHoldsAndLaterRowsOfTheirKeys() throws Exception {
        this.store.insert(event("t", "a", "{\"n\":1}"));
        this.store.insert(event("t", "b", "{\"n\":2}"));
        this.store.insert(event("t", "a", "{\"n\":3}"));
        this.store.insert(event("t", null, "{\"n\":4}"));
        CountDownLatch firstClaimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<CycleStore.Claim> other = executor.submit(() -> this.transactions.execute(status -> {
                CycleStore.Claim claim = this.cycles.claim(1, SLOTS);
                firstClaimed.countDown();
                await(release);
                return claim;
            }));
            assertThat(firstClaimed.await(10, TimeUnit.SECONDS)).isTrue();

            CycleStore.Claim claim = this.transactions.execute(status -> this.cycles.claim(10, SLOTS));

            assertThat(claim.locked()).as("row 1 is held elsewhere").isEqualTo(3);
            assertThat(claim.records())
                    .as("row 3 of key a must wait for row 1, which another relay holds")
                    .extracting(OutboxRecord::key)
                    .containsExactly("b", null);
            release.countDown();
            assertThat(other.get(10, TimeUnit.SECONDS).records())
                    .extracting(OutboxRecord::key)
                    .containsExactly("a");
        } finally {
            release.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void writersInsertWithoutWaitingWhileAClaimHoldsTheLastRowsOfTheTable() throws Exception {
        this.store.insert(event("t", "a", "{}"));
        this.store.insert(event("t", "b", "{}"));
        try (HeldClaim claim = new HeldClaim(10)) {
            assertThat(claim.claim().records()).hasSize(2);
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                writer.submit(() -> this.store.insert(event("t", "c", "{}"))).get(30, TimeUnit.SECONDS);
            } finally {
                writer.shutdownNow();
            }
        }
        assertThat(this.store.count()).isEqualTo(3);
    }

    @Test
    void claimHoldsBackARowWhoseKeyHasAnEarlierRowHeldElsewhereBetweenItsClaimedRows() throws Exception {
        this.store.insert(event("t", "a", "{\"n\":1}"));
        this.store.insert(event("t", "a", "{\"n\":2}"));
        this.store.insert(event("t", "a", "{\"n\":3}"));
        this.store.insert(event("t", "b", "{\"n\":4}"));
        try (HeldClaim first = new HeldClaim(1)) {
            try (HeldClaim second = new HeldClaim(1)) {
                assertThat(first.claim().records()).extracting(OutboxRecord::id).containsExactly(1L);
                assertThat(second.claim().records())
                        .as("row 2 waits for row 1, held by the first claim")
                        .isEmpty();
                first.close();

                CycleStore.Claim claim = this.transactions.execute(status -> this.cycles.claim(10, SLOTS));

                assertThat(claim.locked())
                        .as("rows 1, 3 and 4; row 2 is held by the second claim")
                        .isEqualTo(3);
                assertThat(claim.records())
                        .as("row 3 of key a must wait for row 2, although row 1 before it is in this claim")
                        .extracting(OutboxRecord::id)
                        .containsExactly(1L, 4L);
            }
        }
    }

    @Test
    void aRowWhoseKeysEarlierRowAnotherRelayRecordsAsFailedWhileTheClaimRunsIsHeldBack() throws Exception {
        this.store.insert(event("t", "a", "{\"n\":1}"));
        this.store.insert(event("t", "a", "{\"n\":2}"));
        this.store.insert(event("t", "b", "{\"n\":3}"));
        try (HeldClaim other = new HeldClaim(1)) {
            assertThat(other.claim().records()).extracting(OutboxRecord::id).containsExactly(1L);

            CycleStore.Claim claim = claimWhile(() -> commitQuietly(
                    other, () -> this.cycles.recordFailures(List.of(new CycleStore.Failure(1, 60_000, "timeout")))));

            assertThat(claim.locked()).isEqualTo(2);
            assertThat(claim.records())
                    .as("row 2 must wait for row 1 of its key, which now waits for its retry")
                    .extracting(OutboxRecord::id)
                    .containsExactly(3L);
        }
    }

    @Test
    void aRowWhoseKeysEarlierRowAnotherRelayDeadLettersWhileTheClaimRunsIsHeldBack() throws Exception {
        this.store.insert(event("t", "a", "{\"n\":1}"));
        this.store.insert(event("t", "a", "{\"n\":2}"));
        this.store.insert(event("t", "b", "{\"n\":3}"));
        try (HeldClaim other = new HeldClaim(1)) {
            assertThat(other.claim().records()).extracting(OutboxRecord::id).containsExactly(1L);

            CycleStore.Claim claim = claimWhile(() -> commitQuietly(
                    other, () -> this.cycles.deadLetter(List.of(new CycleStore.Failure(1, 0, "too large")))));

            assertThat(claim.records())
                    .as("key a is parked behind its dead letter, and row 2 must not go before it")
                    .extracting(OutboxRecord::id)
                    .containsExactly(3L);
        }
    }

    @Test
    void claimedRowsPastTheRowsItReadBehindWaitForALaterClaim() throws Exception {
        int heldElsewhere = OutboxDialect.CLAIM_LOOK_BEHIND + 1;
        OutboxTestTables.insertEvents(this.store, "t", heldElsewhere + 3, heldElsewhere + 3);
        try (HeldClaim other = new HeldClaim(heldElsewhere)) {
            assertThat(other.claim().locked()).isEqualTo(heldElsewhere);

            CycleStore.Claim claim = this.transactions.execute(status -> this.cycles.claim(10, SLOTS));

            assertThat(claim.locked()).isEqualTo(3);
            assertThat(claim.records())
                    .as("what is held elsewhere past the rows the claim read is unknown, so its rows wait")
                    .isEmpty();
        }
        assertThat(this.transactions
                        .execute(status -> this.cycles.claim(10, SLOTS))
                        .records())
                .hasSize(10);
    }

    @Test
    void aClaimThatFindsEveryCycleSlotOfItsTableTakenClaimsNothingUntilOneIsFree() throws Exception {
        for (int i = 0; i < 3; i++) {
            this.store.insert(event("t", "k" + i, "{}"));
        }
        DataSource dataSource = this.store.dataSource();
        TableName ordersTable = new TableName("orders_outbox");
        OutboxMigrations.migrate(
                dataSource, this.database.dialect(), ordersTable, new TableName("orders_outbox_history"));
        OutboxStore ordersStore = new OutboxStore(dataSource, this.database.dialect(), ordersTable);
        ordersStore.insert(event("t", "k", "{}"));
        CycleStore orders = new CycleStore(ordersStore);
        try (HeldClaim first = new HeldClaim(1, 2);
                HeldClaim second = new HeldClaim(1, 2)) {
            assertThat(List.of(first.claim(), second.claim()))
                    .extracting(
                            CycleStore.Claim::noFreeSlot,
                            claim -> claim.records().size())
                    .containsExactly(tuple(false, 1), tuple(false, 1));

            CycleStore.Claim third = this.transactions.execute(status -> this.cycles.claim(10, 2));

            assertThat(third.noFreeSlot()).isTrue();
            assertThat(third.locked()).isZero();
            assertThat(third.records()).isEmpty();
            assertThat(this.transactions.execute(status -> orders.claim(10, 2)).records())
                    .as("another table's cycles have slots of their own")
                    .hasSize(1);

            first.close();
            CycleStore.Claim fourth = this.transactions.execute(status -> this.cycles.claim(10, 2));

            assertThat(fourth.noFreeSlot())
                    .as("the first claim's slot ended with its transaction")
                    .isFalse();
            assertThat(fourth.records())
                    .as("the first claim's row and the third one; the second claim still holds its row")
                    .extracting(OutboxRecord::key)
                    .containsExactly("k0", "k2");
        }
        assertThat(this.transactions.execute(status -> this.cycles.claim(10, 1)).records())
                .as("once the second claim ended too, one slot suffices")
                .hasSize(3);
    }

    @Test
    void deleteRemovesOnlyTheGivenRows() {
        this.store.insert(event("t", "a", "{}"));
        this.store.insert(event("t", "b", "{}"));
        List<OutboxRecord> records = this.transactions
                .execute(status -> this.cycles.claim(10, SLOTS))
                .records();

        int deleted = this.cycles.delete(List.of(records.get(0).id()));

        assertThat(deleted).isEqualTo(1);
        assertThat(this.store.count()).isEqualTo(1);
    }

    @Test
    void recordedFailuresSetEachRowsAttemptsRetryTimeAndErrorAndHoldBackOnlyTheirKeys() {
        this.store.insert(event("t", "a", "{}"));
        this.store.insert(event("t", "b", "{}"));
        this.store.insert(event("t", "c", "{}"));
        this.store.insert(event("t", "a", "{}"));
        String quoted = "Broker said \"no\" \\ again, ünïcödé ✓";

        Instant before = Instant.now();
        this.transactions.executeWithoutResult(status -> {
            this.cycles.claim(10, SLOTS);
            this.cycles.recordFailures(List.of(
                    new CycleStore.Failure(1, 60_000, "timeout"), new CycleStore.Failure(3, 3_600_000, quoted)));
        });
        Instant after = Instant.now();

        Map<Long, Map<String, Object>> rows = retryState();
        assertThat(rows.get(1L)).containsEntry("attempts", 1).containsEntry("last_error", "timeout");
        assertThat(rows.get(3L)).containsEntry("attempts", 1).containsEntry("last_error", quoted);
        assertThat((Instant) rows.get(1L).get("next_attempt_at"))
                .as("a minute after the cycle")
                .isBetween(before.plusSeconds(59), after.plusSeconds(61));
        assertThat((Instant) rows.get(3L).get("next_attempt_at"))
                .as("an hour after the cycle")
                .isBetween(before.plusSeconds(3599), after.plusSeconds(3601));
        assertThat(rows.get(2L))
                .containsEntry("attempts", 0)
                .containsEntry("last_error", null)
                .containsEntry("next_attempt_at", null);
        assertThat(this.transactions
                        .execute(status -> this.cycles.claim(10, SLOTS))
                        .records())
                .as("rows 1 and 3 wait for their retries, and row 4 behind row 1 of its key")
                .extracting(OutboxRecord::id)
                .containsExactly(2L);
    }

    @Test
    void failuresRecordedWithoutWaitingSkipTheRowsAnotherTransactionHolds() throws Exception {
        this.store.insert(event("t", "a", "{}"));
        this.store.insert(event("t", "b", "{}"));
        try (HeldClaim other = new HeldClaim(1)) {
            assertThat(other.claim().records()).extracting(OutboxRecord::id).containsExactly(1L);

            int recorded = this.transactions.execute(status -> this.cycles.recordFailuresUnlocked(
                    List.of(new CycleStore.Failure(1, 60_000, "lost"), new CycleStore.Failure(2, 60_000, "lost"))));

            assertThat(recorded).isEqualTo(1);
        }
        Map<Long, Map<String, Object>> rows = retryState();
        assertThat(rows.get(1L)).as("left to the relay that claimed it").containsEntry("attempts", 0);
        assertThat(rows.get(2L)).containsEntry("attempts", 1).containsEntry("last_error", "lost");
    }

    @Test
    void aCycleDeletesRecordsFailuresAndDeadLettersItsRowsWithoutWaitingForRowsOtherRelaysHold() throws Exception {
        for (int i = 0; i < 4; i++) {
            this.store.insert(event("t", "k" + i, "{}"));
        }
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            // Another relay's cycle holds the last row.
            threads.submit(() -> this.transactions.executeWithoutResult(status -> {
                JdbcClient.create(this.store.dataSource())
                        .sql("SELECT id FROM outbox_event WHERE id = 4 FOR UPDATE")
                        .query()
                        .listOfRows();
                locked.countDown();
                await(release);
            }));
            assertThat(locked.await(30, TimeUnit.SECONDS)).isTrue();

            List<Long> claimed = threads.submit(() -> this.transactions.execute(status -> {
                        List<Long> ids = this.cycles.claim(10, SLOTS).records().stream()
                                .map(OutboxRecord::id)
                                .toList();
                        this.cycles.delete(List.of(1L));
                        this.cycles.recordFailures(List.of(new CycleStore.Failure(2, 60_000, "timeout")));
                        this.cycles.deadLetter(List.of(new CycleStore.Failure(3, 0, "too large")));
                        return ids;
                    }))
                    .get(30, TimeUnit.SECONDS);

            assertThat(claimed).containsExactly(1L, 2L, 3L);
        } finally {
            release.countDown();
            threads.shutdown();
        }
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(retryState()).containsOnlyKeys(2L, 4L);
        assertThat(retryState().get(2L)).containsEntry("attempts", 1);
    }

    @Test
    void deadLettersKeepTheirRowWithTheLastErrorAndParkTheirKey() {
        UUID eventId = UUID.randomUUID();
        this.store.insert(new NewRecord(
                eventId, "t", "a", "TestEvent", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), Map.of("source", "x")));
        this.store.insert(event("t", "a", "{\"n\":2}"));
        this.store.insert(event("t", "b", "{\"n\":3}"));
        String error = "Record too large: \"1 MiB\" ✓";

        this.transactions.executeWithoutResult(status -> {
            this.cycles.claim(10, SLOTS);
            this.cycles.deadLetter(List.of(new CycleStore.Failure(1, 0, error)));
        });

        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        assertThat(jdbc.sql("SELECT id FROM outbox_event ORDER BY id")
                        .query(Long.class)
                        .list())
                .containsExactly(2L, 3L);
        DeadLetters deadLetters = new DeadLetters(this.store.dataSource(), this.database.dialect(), this.store.table());
        assertThat(deadLetters.list(10)).singleElement().satisfies(deadLetter -> {
            assertThat(deadLetter.id()).isEqualTo(1L);
            assertThat(deadLetter.eventId()).isEqualTo(eventId);
            assertThat(deadLetter.key()).isEqualTo("a");
            assertThat(deadLetter.attempts()).as("the last attempt counts").isEqualTo(1);
            assertThat(deadLetter.lastError()).isEqualTo(error);
        });
        assertThat(this.transactions
                        .execute(status -> this.cycles.claim(10, SLOTS))
                        .records())
                .as("key a is parked behind its dead letter")
                .extracting(OutboxRecord::id)
                .containsExactly(3L);

        deadLetters.requeue(1);
        assertThat(this.transactions
                        .execute(status -> this.cycles.claim(10, SLOTS))
                        .records())
                .as("the requeued row comes back with its payload and headers, before the next row of its key")
                .satisfies(records -> {
                    assertThat(records).extracting(OutboxRecord::id).containsExactly(1L, 2L, 3L);
                    assertThat(records.get(0).payload())
                            .asString(StandardCharsets.UTF_8)
                            .isEqualTo("{\"n\":1}");
                    assertThat(records.get(0).headers()).isEqualTo(Map.of("source", "x"));
                });
    }

    @Test
    void aPlanCachedWhileTheTableWasEmptyStillReadsItThroughItsIndexesOnceRowsPileUp() {
        boolean postgres = this.database == TestDatabase.POSTGRESQL;
        // One session for every cycle, as when a relay gets the same pooled connection again and again.
        String url = ((HikariDataSource) this.store.dataSource()).getJdbcUrl();
        try (HikariDataSource session = EmbeddedInfrastructure.dataSource(url, "one-session")) {
            session.setMaximumPoolSize(1);
            CycleStore relayStore =
                    new CycleStore(new OutboxStore(session, this.database.dialect(), this.store.table()));
            TransactionTemplate relayTransactions = new TransactionTemplate(new DataSourceTransactionManager(session));
            relayTransactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
            JdbcClient sessionJdbc = JdbcClient.create(session);
            List<Long> sequentialScans = new ArrayList<>();
            Supplier<Integer> cycle = () -> relayTransactions.execute(status -> {
                List<OutboxRecord> records = relayStore.claim(500, SLOTS).records();
                relayStore.delete(records.stream().map(OutboxRecord::id).toList());
                if (postgres) {
                    // What the session did since its counts last went to the cumulative statistics, this cycle
                    // included.
                    sequentialScans.add(sessionJdbc
                            .sql("SELECT seq_scan FROM pg_stat_xact_user_tables"
                                    + " WHERE relid = 'outbox_event'::regclass")
                            .query(Long.class)
                            .single());
                }
                return records.size();
            });
            // Past the driver's threshold for a server-side statement, while the table is empty and its statistics,
            // as after a vacuum, say so. MariaDB plans every execution afresh; its plan of the claim on a full table
            // is checked in OutboxStoreIntegrationTests.
            if (postgres) {
                sessionJdbc.sql("VACUUM ANALYZE outbox_event").update();
            } else {
                sessionJdbc.sql("ANALYZE TABLE outbox_event").query().listOfRows();
            }
            for (int i = 0; i < 15; i++) {
                cycle.get();
            }
            JdbcClient.create(this.store.dataSource())
                    .sql("""
                            INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                            SELECT %s, 't', CONCAT('key-', g.n), 'E', ?, '{}'
                            FROM %s
                            """.formatted(this.database.randomUuid(), this.database.series(14_000)))
                    .param(new byte[1000])
                    .update();
            int published = 0;
            for (int i = 0; i < 28; i++) {
                published += cycle.get();
            }

            assertThat(published).isEqualTo(14_000);
            if (!postgres) {
                return;
            }
            assertThat(sequentialScans)
                    .as("sequential scans of the outbox table, as a plan made for an empty table does in every cycle")
                    .containsOnly(0L);
            List<Map<String, Object>> plans = sessionJdbc
                    .sql("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                            + " WHERE statement LIKE 'WITH claimed%' OR statement LIKE 'DELETE FROM%'")
                    .query()
                    .listOfRows();
            assertThat(plans)
                    .as("the claim and the delete, prepared in the session and planned once, while the table was empty")
                    .hasSize(2)
                    .allSatisfy(plan -> {
                        assertThat((Long) plan.get("generic_plans")).isPositive();
                        assertThat(plan.get("custom_plans")).isEqualTo(0L);
                    });
        }
    }

    @Test
    void vacuumRemovesTheDeadRowsUnlessAnotherVacuumHoldsTheTable() throws Exception {
        if (this.database != TestDatabase.POSTGRESQL) {
            // InnoDB purges deleted rows itself: the relay never vacuums there.
            OutboxTestTables.insertEvents(this.store, "t", 100, 100);
            JdbcClient.create(this.store.dataSource())
                    .sql("DELETE FROM outbox_event")
                    .update();
            assertThat(this.cycles.vacuums()).isFalse();
            assertThat(this.cycles.vacuum()).isEqualTo(new VacuumOutcome(false, List.of()));
            return;
        }
        JdbcClient jdbc = JdbcClient.create(this.store.dataSource());
        OutboxTestTables.insertEvents(this.store, "t", 100, 100);
        jdbc.sql("DELETE FROM outbox_event").update();

        assertThat(this.cycles.vacuum()).isEqualTo(new VacuumOutcome(false, List.of()));
        assertThat(jdbc.sql("SELECT vacuum_count, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'outbox_event'")
                        .query((rs, row) -> List.of(rs.getLong(1), rs.getLong(2)))
                        .single())
                .as("one vacuum, no dead rows left")
                .containsExactly(1L, 0L);

        // What a running vacuum holds, in a transaction of another thread.
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            executor.submit(() -> this.transactions.executeWithoutResult(status -> {
                jdbc.sql("LOCK TABLE outbox_event IN SHARE UPDATE EXCLUSIVE MODE")
                        .update();
                locked.countDown();
                await(release);
            }));
            assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();

            assertThat(this.cycles.vacuum()).isEqualTo(new VacuumOutcome(true, List.of()));
        } finally {
            release.countDown();
            executor.shutdown();
        }
    }

    @Test
    void vacuumByAUserWhoMayNotVacuumTheTableReportsTheDatabasesWarning() {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "MariaDB has no vacuum");
        String user = "relay_user_" + UUID.randomUUID().toString().replace("-", "");
        JdbcClient owner = JdbcClient.create(this.store.dataSource());
        owner.sql("CREATE ROLE " + user + " LOGIN").update();
        owner.sql("GRANT SELECT, INSERT, UPDATE, DELETE ON outbox_event TO " + user)
                .update();
        // The embedded server's URLs name their user, which a data source's user does not override.
        String url = ((HikariDataSource) this.store.dataSource()).getJdbcUrl().replace("user=postgres", "user=" + user);
        try (HikariDataSource asUser = EmbeddedInfrastructure.dataSource(url, "not-the-owner")) {
            asUser.setUsername(user);
            assertThat(JdbcClient.create(asUser)
                            .sql("SELECT current_user")
                            .query(String.class)
                            .single())
                    .isEqualTo(user);
            CycleStore store = new CycleStore(new OutboxStore(asUser, this.database.dialect(), this.store.table()));

            VacuumOutcome outcome = store.vacuum();

            assertThat(outcome.busy()).isFalse();
            assertThat(outcome.warnings())
                    .singleElement(as(InstanceOfAssertFactories.STRING))
                    .contains("outbox_event", "SQL state 01000");
        } finally {
            owner.sql("DROP OWNED BY " + user).update();
            owner.sql("DROP ROLE " + user).update();
        }
    }

    /**
     * Claims up to ten rows in a transaction whose claim statement is followed at once, before anything else the
     * claim runs, by {@code meanwhile}: what other relays may commit while a claim is under way.
     */
    /** Inserts a row of topic {@code t} for each key, in that order, and returns their ids. */
    private List<Long> insertRows(String... keys) {
        for (String key : keys) {
            this.store.insert(event("t", key, "{}"));
        }
        return JdbcClient.create(this.store.dataSource())
                .sql("SELECT id FROM outbox_event ORDER BY id")
                .query(Long.class)
                .list();
    }

    private CycleStore.IdClaim claimIds(Long... ids) {
        return this.cycles.claimIds(List.of(ids), Long.MAX_VALUE, SLOTS, Duration.ofSeconds(30), false);
    }

    private CycleStore.Claim claimWhile(Runnable meanwhile) {
        DataSource target = this.store.dataSource();
        AtomicBoolean done = new AtomicBoolean();
        DataSource interposed = (DataSource) Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, arguments) -> {
                    Object result = invoke(target, method, arguments);
                    if (!method.getName().equals("getConnection")) {
                        return result;
                    }
                    Connection connection = (Connection) result;
                    return Proxy.newProxyInstance(
                            getClass().getClassLoader(),
                            new Class<?>[] {Connection.class},
                            (connectionProxy, connectionMethod, connectionArguments) -> {
                                Object made = invoke(connection, connectionMethod, connectionArguments);
                                if (!connectionMethod.getName().equals("prepareStatement")
                                        || !((String) connectionArguments[0]).contains("in_budget")) {
                                    return made;
                                }
                                PreparedStatement claimStatement = (PreparedStatement) made;
                                return Proxy.newProxyInstance(
                                        getClass().getClassLoader(),
                                        new Class<?>[] {PreparedStatement.class},
                                        (statementProxy, statementMethod, statementArguments) -> {
                                            Object executed =
                                                    invoke(claimStatement, statementMethod, statementArguments);
                                            if (statementMethod.getName().equals("executeQuery")
                                                    && done.compareAndSet(false, true)) {
                                                meanwhile.run();
                                            }
                                            return executed;
                                        });
                            });
                });
        CycleStore interposedCycles =
                new CycleStore(new OutboxStore(interposed, this.database.dialect(), this.store.table()));
        TransactionTemplate interposedTransactions =
                new TransactionTemplate(new DataSourceTransactionManager(interposed));
        interposedTransactions.setIsolationLevel(TransactionDefinition.ISOLATION_READ_COMMITTED);
        CycleStore.Claim claim = interposedTransactions.execute(status -> interposedCycles.claim(10, SLOTS));
        assertThat(done).as("the claim statement ran").isTrue();
        return claim;
    }

    private static void commitQuietly(HeldClaim claim, Runnable work) {
        try {
            claim.commitAfter(work);
        } catch (Exception ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The retry state of each row, by id. */
    private Map<Long, Map<String, Object>> retryState() {
        Map<Long, Map<String, Object>> rows = new HashMap<>();
        JdbcClient.create(this.store.dataSource())
                .sql("SELECT id, attempts, %s AS next_attempt_micros, last_error FROM outbox_event"
                        .formatted(this.database.epochMicros("next_attempt_at")))
                .query((rs, row) -> {
                    Map<String, Object> state = new HashMap<>();
                    state.put("attempts", rs.getInt("attempts"));
                    long micros = rs.getLong("next_attempt_micros");
                    state.put("next_attempt_at", rs.wasNull() ? null : Instant.EPOCH.plus(micros, ChronoUnit.MICROS));
                    state.put("last_error", rs.getString("last_error"));
                    rows.put(rs.getLong("id"), state);
                    return state;
                })
                .list();
        return rows;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** A claim in a transaction of its own on another thread, which holds its locks until closed. */
    private final class HeldClaim implements AutoCloseable {

        private final CountDownLatch release = new CountDownLatch(1);

        private final ExecutorService executor = Executors.newSingleThreadExecutor();

        private final CycleStore.Claim claim;

        private volatile Runnable beforeCommit = () -> {};

        HeldClaim(int limit) throws Exception {
            this(limit, SLOTS);
        }

        HeldClaim(int limit, int slots) throws Exception {
            CountDownLatch claimed = new CountDownLatch(1);
            CycleStore.Claim[] result = new CycleStore.Claim[1];
            this.executor.submit(() -> CycleStoreIntegrationTests.this.transactions.executeWithoutResult(status -> {
                result[0] = CycleStoreIntegrationTests.this.cycles.claim(limit, slots);
                claimed.countDown();
                await(this.release);
                this.beforeCommit.run();
            }));
            assertThat(claimed.await(30, TimeUnit.SECONDS)).isTrue();
            this.claim = result[0];
        }

        CycleStore.Claim claim() {
            return this.claim;
        }

        /** Does some work in the claim's transaction, such as recording a failure, and commits it. */
        void commitAfter(Runnable work) throws Exception {
            this.beforeCommit = work;
            close();
        }

        /** Commits the claim's transaction, which releases its rows without deleting them. */
        @Override
        public void close() throws Exception {
            this.release.countDown();
            this.executor.shutdown();
            assertThat(this.executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
    }
}
