package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.relay.postgresql.WakeUpNotifier;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxMigrations;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.OutboxTableMissingException;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.WakeUpNotifications;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.io.IOException;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.UrlResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.StringUtils;

/** Every branch of the auto-configuration, against a real PostgreSQL database. */
class OutboxStoreAutoConfigurationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void configuresFacadeAndRelayAndCreatesTheTable() {
        this.runner.run(context -> {
            assertThat(context).hasSingleBean(Outbox.class);
            assertThat(context).hasSingleBean(KafkaRecordPublisher.class);
            assertThat(context).hasSingleBean(OutboxRelay.class);
            assertThat(context.getBean(OutboxRelay.class).isRunning()).isTrue();
            assertThat(context.getBean(OutboxStore.class).count()).isZero();
        });
    }

    @Test
    void relayCanBeTurnedOff() {
        this.runner.withPropertyValues("outbox.relay.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(Outbox.class);
            assertThat(context).doesNotHaveBean(OutboxRelay.class);
            assertThat(context).doesNotHaveBean(RecordPublisher.class);
        });
    }

    @Test
    void wakeUpsAcrossInstancesAreOnByDefault() {
        this.runner.run(context -> {
            assertThat(context).hasSingleBean(WakeUpNotifier.class);
            assertThat(context).hasSingleBean(WakeUpListener.class);
            WakeUpListener listener = context.getBean(WakeUpListener.class);
            assertThat(listener.isRunning()).isTrue();
            await().atMost(TIMEOUT).until(listener::isListening);
        });
    }

    @Test
    void wakeUpsAcrossInstancesCanBeTurnedOff() {
        this.runner.withPropertyValues("outbox.relay.notify.enabled=false").run(context -> {
            assertThat(context).hasSingleBean(OutboxRelay.class);
            assertThat(context).doesNotHaveBean(WakeUpNotifier.class);
            assertThat(context).doesNotHaveBean(WakeUpListener.class);
        });
    }

    @Test
    void anInstanceWithoutARelayStillWakesUpTheOthersAfterACommit() {
        this.runner.withPropertyValues("outbox.relay.enabled=false").run(context -> {
            assertThat(context).doesNotHaveBean(WakeUpListener.class);
            DataSource dataSource = context.getBean(DataSource.class);
            try (WakeUpNotifications others = new WakeUpNotifications(dataSource, new TableName(TableName.DEFAULT))) {
                new TransactionTemplate(new DataSourceTransactionManager(dataSource))
                        .executeWithoutResult(
                                status -> context.getBean(Outbox.class).write("orders", "order-1", "{}"));

                assertThat(others.awaitPayloads(1, TIMEOUT))
                        .containsExactly(context.getBean(WakeUpNotifier.class).instanceId());
            }
        });
    }

    @Test
    void withoutKafkaOnTheClassPathOnlyTheWriterIsConfigured() {
        this.runner
                .withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
                .run(context -> {
                    assertThat(context).hasSingleBean(Outbox.class);
                    assertThat(context).doesNotHaveBean(OutboxRelay.class);
                });
    }

    @Test
    void withoutADataSourceNothingIsConfigured() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        OutboxStoreAutoConfiguration.class,
                        OutboxWriterAutoConfiguration.class,
                        OutboxRelayAutoConfiguration.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(Outbox.class);
                    assertThat(context).doesNotHaveBean(OutboxRelay.class);
                });
    }

    @Test
    void theUsersOwnBeansReplaceOurs() {
        this.runner.withUserConfiguration(UserBeans.class).run(context -> {
            assertThat(context.getBean(OutboxPayloadSerializer.class)).isSameAs(UserBeans.SERIALIZER);
            assertThat(context.getBean(RecordPublisher.class)).isSameAs(UserBeans.PUBLISHER);
            assertThat(context).doesNotHaveBean(KafkaRecordPublisher.class);
            assertThat(context).hasSingleBean(OutboxRelay.class);
        });
    }

    @Test
    void theUsersOwnDeadLettersAndWakeUpNotifierReplaceOurs() {
        this.runner.withUserConfiguration(UserStoreBeans.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(DeadLetters.class);
            assertThat(context).hasSingleBean(WakeUpNotifier.class);
            assertThat(context.getBean(DeadLetters.class)).isSameAs(context.getBean("userDeadLetters"));
            assertThat(context.getBean(WakeUpNotifier.class)).isSameAs(context.getBean("userNotifier"));
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserStoreBeans {

        @Bean
        DeadLetters userDeadLetters(DataSource dataSource, OutboxDialect dialect) {
            return new DeadLetters(dataSource, dialect, TableName.outboxTable("outbox_event"));
        }

        @Bean
        WakeUpNotifier userNotifier(DataSource dataSource, OutboxDialect dialect) {
            return new WakeUpNotifier(
                    dataSource, dialect, TableName.outboxTable("outbox_event"), java.time.Duration.ofMillis(20));
        }
    }

    @Test
    void theRelaysProducerFollowsTheApplicationsKafkaConnectionAndEnforcesDurability() {
        this.runner
                .withBean(KafkaConnectionDetails.class, () -> () -> List.of("localhost:19093"))
                .withPropertyValues("spring.kafka.producer.acks=1", "outbox.relay.producer.linger.ms=7")
                .run(context -> assertThat(
                                context.getBean(KafkaRecordPublisher.class).producerConfiguration())
                        .containsEntry("bootstrap.servers", List.of("localhost:19093"))
                        .containsEntry("acks", "all")
                        .containsEntry("enable.idempotence", "true")
                        .containsEntry("linger.ms", "7"));
    }

    @Test
    void propertiesBindToTheRelaySettings() {
        this.runner
                .withPropertyValues(
                        "outbox.relay.batch-size=42",
                        "outbox.relay.poll-interval=2s",
                        "outbox.relay.send-timeout=5s",
                        "outbox.relay.retry.initial-delay=100ms",
                        "outbox.relay.retry.multiplier=3",
                        "outbox.relay.retry.max-delay=1m",
                        "outbox.relay.retry.max-attempts=4",
                        "outbox.relay.concurrency=3",
                        "outbox.relay.table-concurrency=6",
                        "outbox.relay.vacuum-interval=0",
                        "outbox.relay.synchronous-commit=true")
                .run(context -> assertThat(context.getBean(RelaySettings.class))
                        .isEqualTo(new RelaySettings(
                                42,
                                java.time.Duration.ofSeconds(2),
                                java.time.Duration.ofSeconds(5),
                                java.time.Duration.ofMillis(100),
                                3.0,
                                java.time.Duration.ofMinutes(1),
                                4,
                                3,
                                6,
                                java.time.Duration.ZERO,
                                RelaySettings.DEFAULT_MAX_BATCH_BYTES,
                                RelaySettings.DEFAULT_SHUTDOWN_TIMEOUT,
                                true)));
    }

    @Test
    void aCustomTableNameIsCreatedAndUsed() {
        this.runner.withPropertyValues("outbox.table=billing_outbox").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(OutboxStore.class).table()).hasToString("billing_outbox");
        });
    }

    @Test
    void aMissingTableWithMigrationsOffFailsStartUpWithAnAnalysisThatTellsTheFix() {
        this.runner.withPropertyValues("outbox.migration.enabled=false").run(context -> {
            OutboxTableMissingException missing = findCause(context.getStartupFailure());
            FailureAnalysis analysis = new OutboxTableMissingFailureAnalyzer().analyze(context.getStartupFailure());
            assertThat(analysis).isNotNull();
            assertThat(analysis.getDescription()).contains("'outbox_event' does not exist");
            assertThat(analysis.getAction())
                    .contains("outbox.migration.enabled")
                    .contains("db/outbox/postgresql");
            assertThat(missing.getTable()).hasToString("outbox_event");
            assertThat(registeredFailureAnalyzers())
                    .as("Spring Boot finds the analyzer")
                    .contains(OutboxTableMissingFailureAnalyzer.class.getName());
        });
    }

    @Test
    void theDocumentedDefaultsAreTheEngineDefaults() {
        OutboxProperties properties = new OutboxProperties();
        RelaySettings defaults = RelaySettings.defaults();

        assertThat(properties.getTable()).isEqualTo(TableName.DEFAULT);
        assertThat(properties.getMigration().getHistoryTable()).isEqualTo(OutboxMigrations.DEFAULT_HISTORY_TABLE);
        assertThat(properties.getRelay().getBatchSize()).isEqualTo(defaults.batchSize());
        assertThat(properties.getRelay().getPollInterval()).isEqualTo(defaults.pollInterval());
        assertThat(properties.getRelay().getSendTimeout()).isEqualTo(defaults.sendTimeout());
        assertThat(properties.getRelay().getRetry().getInitialDelay()).isEqualTo(defaults.retryInitialDelay());
        assertThat(properties.getRelay().getRetry().getMultiplier()).isEqualTo(defaults.retryMultiplier());
        assertThat(properties.getRelay().getRetry().getMaxDelay()).isEqualTo(defaults.retryMaxDelay());
        assertThat(properties.getRelay().getRetry().getMaxAttempts()).isEqualTo(defaults.maxAttempts());
        assertThat(properties.getRelay().getConcurrency()).isEqualTo(defaults.concurrency());
        assertThat(properties.getRelay().getTableConcurrency()).isEqualTo(defaults.tableConcurrency());
        assertThat(properties.getRelay().getVacuumInterval()).isEqualTo(defaults.vacuumInterval());
        assertThat(properties.getRelay().getMaxBatchBytes().toBytes()).isEqualTo(defaults.maxBatchBytes());
        assertThat(properties.getRelay().getShutdownTimeout()).isEqualTo(defaults.shutdownTimeout());
        assertThat(properties.getRelay().isSynchronousCommit()).isEqualTo(defaults.synchronousCommit());
        assertThat(properties.getRelay().getNotify().getInterval()).isEqualTo(WakeUpNotifier.DEFAULT_INTERVAL);
    }

    private static List<String> registeredFailureAnalyzers() throws IOException {
        List<String> names = new ArrayList<>();
        Enumeration<URL> files =
                OutboxStoreAutoConfigurationTests.class.getClassLoader().getResources("META-INF/spring.factories");
        while (files.hasMoreElements()) {
            String value = PropertiesLoaderUtils.loadProperties(new UrlResource(files.nextElement()))
                    .getProperty(FailureAnalyzer.class.getName(), "");
            names.addAll(StringUtils.commaDelimitedListToSet(value.replace(" ", "")));
        }
        return names;
    }

    private static OutboxTableMissingException findCause(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof OutboxTableMissingException missing) {
                return missing;
            }
        }
        throw new AssertionError("start-up did not fail with OutboxTableMissingException", failure);
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {

        static final OutboxPayloadSerializer SERIALIZER = (topic, headers, payload) -> new byte[0];

        static final RecordPublisher PUBLISHER = record -> CompletableFuture.completedFuture(null);

        @Bean
        OutboxPayloadSerializer mySerializer() {
            return SERIALIZER;
        }

        @Bean
        RecordPublisher myPublisher() {
            return PUBLISHER;
        }
    }
}
