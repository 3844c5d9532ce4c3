package dev.txoutbox.autoconfigure;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.postgresql.LogModeUnavailableException;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.relay.postgresql.WakeUpNotifier;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.util.unit.DataSize;

/** The relay's log mode as the auto-configuration sets it up, and the start-up checks of what it needs. */
class LogModeConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void logModeReadsTheSlotAndItsWritersTakeNoKeyLockAndSendNoWakeUps() {
        HikariDataSource dataSource = EmbeddedInfrastructure.newDatabase();
        this.runner
                .withBean(DataSource.class, () -> dataSource)
                .withPropertyValues("outbox.relay.mode=log")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(OutboxRelay.class).commitLog())
                            .isSameAs(context.getBean(ReplicationSlotLog.class));
                    assertThat(context.getBean(OutboxStore.class).keyLocks()).isFalse();
                    assertThat(context.getBeanProvider(WakeUpNotifier.class).getIfAvailable())
                            .isNull();
                    assertThat(context.getBeanProvider(WakeUpListener.class).getIfAvailable())
                            .isNull();
                    JdbcClient jdbc = JdbcClient.create(dataSource);
                    assertThat(jdbc.sql(
                                            "SELECT plugin FROM pg_replication_slots WHERE slot_name = current_database() || '_outbox_event_relay'")
                                    .query(String.class)
                                    .single())
                            .isEqualTo("pgoutput");
                    assertThat(jdbc.sql("SELECT pubinsert AND NOT pubupdate AND NOT pubdelete FROM pg_publication"
                                            + " WHERE pubname = 'outbox_event_relay'")
                                    .query(Boolean.class)
                                    .single())
                            .isTrue();
                });
        dataSource.close();
    }

    @Test
    void pollModeIsTheDefaultAndTakesKeyLocks() {
        this.runner
                .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
                .run(context -> {
                    assertThat(context.getBean(OutboxRelay.class).commitLog()).isNull();
                    assertThat(context.getBean(OutboxStore.class).keyLocks()).isTrue();
                    assertThat(context).doesNotHaveBean(ReplicationSlotLog.class);
                });
    }

    @Test
    void aServerWithoutLogicalWalStopsTheStartSayingWhatToSet() throws Exception {
        try (EmbeddedPostgres replicaWal = EmbeddedPostgres.builder().start()) {
            this.runner
                    .withBean(DataSource.class, replicaWal::getPostgresDatabase)
                    .withPropertyValues("outbox.relay.mode=log")
                    .run(context -> {
                        assertThat(context)
                                .getFailure()
                                .rootCause()
                                .isInstanceOf(LogModeUnavailableException.class)
                                .hasMessageContaining("wal_level=replica")
                                .hasMessageContaining("wal_level = logical")
                                .hasMessageContaining("rds.logical_replication = 1")
                                .hasMessageContaining("cloudsql.logical_decoding = on")
                                .hasMessageContaining("outbox.relay.mode=poll");
                        FailureAnalysis analysis =
                                new LogModeUnavailableFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis).isNotNull();
                        assertThat(analysis.getDescription()).contains("wal_level=replica");
                        assertThat(analysis.getAction()).contains("docs/log-mode.md");
                    });
        }
    }

    @Test
    void aUserWhoMayNotReplicateStopsTheStartSayingWhatToGrant() {
        OutboxStore migrated = OutboxTestTables.newStore(TestDatabase.POSTGRESQL);
        JdbcClient admin = JdbcClient.create(migrated.dataSource());
        String user = "no_replication_" + System.nanoTime();
        admin.sql("CREATE ROLE " + user + " LOGIN").update();
        admin.sql("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + user)
                .update();
        String url;
        try (var connection = migrated.dataSource().getConnection()) {
            // Without the URL's user=postgres, which would win over the pool's user.
            url = connection.getMetaData().getURL().replaceFirst("\\?.*", "");
        } catch (java.sql.SQLException ex) {
            throw new IllegalStateException(ex);
        }
        HikariDataSource plain = EmbeddedInfrastructure.dataSource(url, "log-mode-test");
        plain.setUsername(user);
        this.runner
                .withBean(DataSource.class, () -> plain)
                .withPropertyValues("outbox.relay.mode=log", "outbox.migration.enabled=false")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(LogModeUnavailableException.class)
                        .hasMessageContaining("'" + user + "' may not replicate")
                        .hasMessageContaining("ALTER ROLE \"" + user + "\" WITH REPLICATION")
                        .hasMessageContaining("GRANT rds_replication TO \"" + user + "\""));
        plain.close();
    }

    @Test
    void logModeOnMariaDbIsRefusedNamingTheSetting() {
        this.runner
                .withBean(DataSource.class, TestDatabase.MARIADB::newDatabase)
                .withPropertyValues("outbox.relay.mode=log")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasMessageContaining("outbox.relay.mode")
                        .hasMessageContaining("MariaDB")
                        .hasMessageContaining("outbox.relay.mode=poll"));
    }

    @Test
    void aSlotThatHoldsMoreThanTheMaximumLagMakesHealthDownAndShowsInTheGauge() {
        OutboxStore store = LogMode.newStore();
        ReplicationSlotLog log = LogMode.log(store);
        assertThat(log.slot()).endsWith("_outbox_event_relay").startsWith("test_");
        log.prepare();
        String topic = EmbeddedInfrastructure.newTopic("slot-lag", 1);
        for (int i = 0; i < 20; i++) {
            store.insert(event(topic, "k", "{\"n\":" + i + "}"));
        }
        ReplicationSlotMonitor monitor =
                new ReplicationSlotMonitor(log, () -> null, Duration.ZERO, DataSize.ofBytes(1));

        List<String> reasons = new ArrayList<>();
        Map<String, Object> details = monitor.details(reasons);

        assertThat(details).containsEntry("slot", log.slot()).containsEntry("walStatus", "reserved");
        assertThat((Long) details.get("lagBytes")).isPositive();
        assertThat(reasons)
                .singleElement()
                .asString()
                .contains("holds back")
                .contains("outbox.relay.log.max-slot-lag (1B)")
                .contains("active=false");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        monitor.bindTo(registry);
        assertThat(registry.get("outbox.relay.log.slot.lag")
                        .tag("slot", log.slot())
                        .gauge()
                        .value())
                .isPositive();

        ReplicationSlotMonitor generous =
                new ReplicationSlotMonitor(log, () -> null, Duration.ZERO, DataSize.ofGigabytes(1));
        List<String> none = new ArrayList<>();
        generous.details(none);
        assertThat(none).isEmpty();
    }
}
