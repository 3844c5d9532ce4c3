package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Several instances apply the outbox's migrations to an empty database at the same moment: each one succeeds, and
 * each migration is applied once. Directly, and through a real PgBouncer in transaction mode (skipped where it is
 * not installed), where Flyway's lock must be a transaction's, not a session's.
 */
class ConcurrentMigrationsIntegrationTests {

    private static final int INSTANCES = 6;

    private static final TableName TABLE = new TableName(TableName.DEFAULT);

    private static final TableName HISTORY = new TableName(OutboxMigrations.DEFAULT_HISTORY_TABLE);

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    @Test
    void instancesMigratingAtOnceOnDirectConnectionsEachSucceedAndApplyEachMigrationOnce() throws Exception {
        migrateAtOnce(this.databaseUrl);

        assertAppliedOnce();
    }

    @RepeatedTest(3)
    void instancesMigratingAtOnceBesideTheApplicationsTablesEachSucceedAndApplyEachMigrationOnce() throws Exception {
        // A schema that is not empty makes each instance start the outbox's history with a baseline.
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "application")) {
            JdbcClient.create(direct)
                    .sql("CREATE TABLE orders (id bigint PRIMARY KEY)")
                    .update();
        }

        migrateAtOnce(this.databaseUrl);

        assertAppliedOnce();
    }

    @RepeatedTest(3)
    void instancesMigratingAtOnceThroughPgBouncerInTransactionModeEachSucceedAndApplyEachMigrationOnce()
            throws Exception {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION)) {
            migrateAtOnce(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"));
        }

        assertAppliedOnce();
    }

    @RepeatedTest(3)
    void instancesMigratingAtOnceThroughPgBouncerOnAStartedHistoryTakeTurnsWithoutTryingAgain() throws Exception {
        // With the history there already, nothing excuses a retry: only the lock can keep the instances apart, and
        // a session's lock, which PgBouncer in transaction mode does not keep, would let them apply a migration twice.
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "first-version")) {
            Flyway.configure()
                    .dataSource(direct)
                    .locations(OutboxDialects.postgres().migrationLocation())
                    .table(HISTORY.value())
                    .placeholders(Map.of("outbox_table", TABLE.value()))
                    .target("1")
                    .load()
                    .migrate();
        }
        ListAppender<ILoggingEvent> retries = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(OutboxMigrations.class);
        retries.start();
        logger.addAppender(retries);
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION)) {
            migrateAtOnce(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"));
        } finally {
            logger.detachAppender(retries);
        }

        assertAppliedOnce();
        assertThat(retries.list).noneMatch(event -> event.getLevel() == Level.WARN);
    }

    @Test
    void aFailureOfAnotherCauseThanTheRaceStopsAtOnceWithoutTryingAgain() {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "changed-checksum")) {
            OutboxMigrations.migrate(direct, OutboxDialects.postgres(), TABLE, HISTORY);
            JdbcClient.create(direct)
                    .sql("UPDATE outbox_schema_history SET checksum = checksum + 1 WHERE version = '1'")
                    .update();
            ListAppender<ILoggingEvent> retries = new ListAppender<>();
            Logger logger = (Logger) LoggerFactory.getLogger(OutboxMigrations.class);
            retries.start();
            logger.addAppender(retries);
            try {
                assertThatThrownBy(() -> OutboxMigrations.migrate(direct, OutboxDialects.postgres(), TABLE, HISTORY))
                        .isInstanceOf(FlywayException.class)
                        .hasMessageContaining("checksum");
            } finally {
                logger.detachAppender(retries);
            }
            assertThat(retries.list)
                    .noneMatch(event -> event.getFormattedMessage().contains("trying again"));
        }
    }

    @Test
    void aScriptFailingRightAfterTheHistoryTableWasCreatedOnAFreshDatabaseStopsAtOnceWithoutTryingAgain(
            @TempDir Path scripts) throws Exception {
        Files.writeString(scripts.resolve("V1__create_a_table.sql"), "CREATE TABLE ${outbox_table} (id bigint);");
        Files.writeString(scripts.resolve("V2__fail.sql"), "SELECT no_such_column FROM ${outbox_table};");
        OutboxDialect postgres = OutboxDialects.postgres();
        OutboxDialect broken = (OutboxDialect) Proxy.newProxyInstance(
                OutboxDialect.class.getClassLoader(),
                new Class<?>[] {OutboxDialect.class},
                (proxy, method, arguments) -> method.getName().equals("migrationLocation")
                        ? "filesystem:" + scripts
                        : method.invoke(postgres, arguments));
        ListAppender<ILoggingEvent> retries = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(OutboxMigrations.class);
        retries.start();
        logger.addAppender(retries);
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "broken-script")) {
            assertThatThrownBy(() -> OutboxMigrations.migrate(direct, broken, TABLE, HISTORY))
                    .isInstanceOf(FlywayException.class)
                    .hasMessageContaining("no_such_column")
                    .satisfies(failure -> assertThat(failure.getSuppressed()).isEmpty());
        } finally {
            logger.detachAppender(retries);
        }
        assertThat(retries.list).noneMatch(event -> event.getLevel() == Level.WARN);
    }

    private static void migrateAtOnce(String jdbcUrl) throws Exception {
        List<HikariDataSource> pools = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(INSTANCES);
        try {
            CyclicBarrier start = new CyclicBarrier(INSTANCES);
            List<CompletableFuture<Void>> migrations = new ArrayList<>();
            for (int i = 0; i < INSTANCES; i++) {
                HikariDataSource pool = EmbeddedInfrastructure.dataSource(jdbcUrl, "instance-" + i);
                pools.add(pool);
                migrations.add(CompletableFuture.runAsync(
                        () -> {
                            try {
                                start.await(30, TimeUnit.SECONDS);
                            } catch (Exception ex) {
                                throw new IllegalStateException(ex);
                            }
                            OutboxMigrations.migrate(pool, OutboxDialects.postgres(), TABLE, HISTORY);
                        },
                        threads));
            }
            CompletableFuture.allOf(migrations.toArray(CompletableFuture[]::new))
                    .get(2, TimeUnit.MINUTES);
        } finally {
            threads.shutdownNow();
            pools.forEach(HikariDataSource::close);
        }
    }

    private void assertAppliedOnce() {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "observer")) {
            List<String> versions = JdbcClient.create(direct)
                    .sql("SELECT version FROM outbox_schema_history WHERE success AND type <> 'BASELINE'"
                            + " ORDER BY installed_rank")
                    .query(String.class)
                    .list();
            assertThat(versions).containsExactly("1", "2", "3", "4", "5", "6");
            new OutboxStore(direct, OutboxDialects.postgres(), TABLE).verifyTable();
        }
    }
}
