package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import dev.txoutbox.testing.TestDatabase;
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
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Several instances apply the outbox's migrations to an empty database at the same moment, on each database: each one
 * succeeds, and each migration is applied once. Directly, and on PostgreSQL through a real PgBouncer in transaction
 * mode (skipped where it is not installed), where Flyway's lock must be a transaction's, not a session's. On MariaDB,
 * Flyway takes turns through a named lock of the session ({@code GET_LOCK}), and DDL is not transactional: a script
 * that fails half-way leaves what it created.
 */
abstract class ConcurrentMigrationsIntegrationTests {

    private static final int INSTANCES = 6;

    private static final TableName TABLE = new TableName(TableName.DEFAULT);

    private static final TableName HISTORY = new TableName(OutboxMigrations.DEFAULT_HISTORY_TABLE);

    private final TestDatabase database;

    private final OutboxDialect dialect;

    private final String databaseUrl;

    ConcurrentMigrationsIntegrationTests(TestDatabase database) {
        this.database = database;
        this.dialect = database.dialect();
        this.databaseUrl = database.newDatabaseUrl();
    }

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
    void instancesMigratingAtOnceOnAStartedHistoryTakeTurnsWithoutTryingAgain() throws Exception {
        // With the history there already, nothing excuses a retry: only Flyway's lock keeps the instances apart.
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "first-version")) {
            startHistory(direct);
        }
        ListAppender<ILoggingEvent> retries = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(OutboxMigrations.class);
        retries.start();
        logger.addAppender(retries);
        try {
            migrateAtOnce(this.databaseUrl);
        } finally {
            logger.detachAppender(retries);
        }

        assertAppliedOnce();
        assertThat(retries.list).noneMatch(event -> event.getLevel() == Level.WARN);
    }

    @RepeatedTest(3)
    void instancesMigratingAtOnceThroughPgBouncerInTransactionModeEachSucceedAndApplyEachMigrationOnce()
            throws Exception {
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "PgBouncer pools PostgreSQL's connections only");
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION)) {
            migrateAtOnce(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"));
        }

        assertAppliedOnce();
    }

    @RepeatedTest(3)
    void instancesMigratingAtOnceThroughPgBouncerOnAStartedHistoryTakeTurnsWithoutTryingAgain() throws Exception {
        // With the history there already, nothing excuses a retry: only the lock can keep the instances apart, and
        // a session's lock, which PgBouncer in transaction mode does not keep, would let them apply a migration twice.
        assumeTrue(this.database == TestDatabase.POSTGRESQL, "PgBouncer pools PostgreSQL's connections only");
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "first-version")) {
            startHistory(direct);
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
            OutboxMigrations.migrate(direct, this.dialect, TABLE, HISTORY);
            JdbcClient.create(direct)
                    .sql("UPDATE outbox_schema_history SET checksum = checksum + 1 WHERE version = '1'")
                    .update();
            ListAppender<ILoggingEvent> retries = new ListAppender<>();
            Logger logger = (Logger) LoggerFactory.getLogger(OutboxMigrations.class);
            retries.start();
            logger.addAppender(retries);
            try {
                assertThatThrownBy(() -> OutboxMigrations.migrate(direct, this.dialect, TABLE, HISTORY))
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
        OutboxDialect real = this.dialect;
        OutboxDialect broken = (OutboxDialect) Proxy.newProxyInstance(
                OutboxDialect.class.getClassLoader(),
                new Class<?>[] {OutboxDialect.class},
                (proxy, method, arguments) -> method.getName().equals("migrationLocation")
                        ? "filesystem:" + scripts
                        : method.invoke(real, arguments));
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

    @Test
    void aScriptFailingHalfWayLeavesNothingOnPostgresqlButItsTablesAndAFailedEntryOnMariaDb(@TempDir Path scripts)
            throws Exception {
        Files.writeString(
                scripts.resolve("V1__half_way.sql"),
                "CREATE TABLE ${outbox_table} (id bigint);\nSELECT no_such_column FROM ${outbox_table};");
        OutboxDialect real = this.dialect;
        OutboxDialect broken = (OutboxDialect) Proxy.newProxyInstance(
                OutboxDialect.class.getClassLoader(),
                new Class<?>[] {OutboxDialect.class},
                (proxy, method, arguments) -> method.getName().equals("migrationLocation")
                        ? "filesystem:" + scripts
                        : method.invoke(real, arguments));
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "half-way")) {
            assertThatThrownBy(() -> OutboxMigrations.migrate(direct, broken, TABLE, HISTORY))
                    .isInstanceOf(FlywayException.class)
                    .hasMessageContaining("no_such_column");
            JdbcClient jdbc = JdbcClient.create(direct);
            long tables = jdbc.sql(
                            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = "
                                    + (this.database == TestDatabase.POSTGRESQL ? "current_schema()" : "DATABASE()"))
                    .param(TABLE.value())
                    .query(Long.class)
                    .single();
            List<String> failed = jdbc.sql("SELECT version FROM outbox_schema_history WHERE NOT success")
                    .query(String.class)
                    .list();
            if (this.database == TestDatabase.POSTGRESQL) {
                assertThat(tables)
                        .as("the script's transaction rolled its table back")
                        .isZero();
                assertThat(failed).isEmpty();
                return;
            }
            // MariaDB commits each DDL statement on its own: the table stays, and Flyway records the failed
            // migration, which the next start refuses until an operator cleans up and repairs the history.
            assertThat(tables).isEqualTo(1);
            assertThat(failed).containsExactly("1");
            assertThatThrownBy(() -> OutboxMigrations.migrate(direct, broken, TABLE, HISTORY))
                    .isInstanceOf(FlywayException.class)
                    .hasMessageContaining("failed migration");
        }
    }

    /**
     * Starts the outbox's history as an earlier version of the outbox left it: PostgreSQL's first migration; on
     * MariaDB, whose outbox began with a single migration, the baseline that starts a history in a schema that holds
     * the application's tables.
     */
    private void startHistory(DataSource dataSource) {
        FluentConfiguration flyway = Flyway.configure()
                .dataSource(dataSource)
                .locations(this.dialect.migrationLocation())
                .table(HISTORY.value())
                .placeholders(Map.of("outbox_table", TABLE.value()))
                .baselineVersion("0");
        if (this.database == TestDatabase.POSTGRESQL) {
            flyway.target("1").load().migrate();
        } else {
            flyway.load().baseline();
        }
    }

    private void migrateAtOnce(String jdbcUrl) throws Exception {
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
                            OutboxMigrations.migrate(pool, this.dialect, TABLE, HISTORY);
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
            assertThat(versions)
                    .containsExactlyElementsOf(
                            this.database == TestDatabase.POSTGRESQL
                                    ? List.of("1", "2", "3", "4", "5", "6")
                                    : List.of("1"));
            new OutboxStore(direct, this.dialect, TABLE).verifyTable();
        }
    }
}
