package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Arrays;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.Environment;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.unit.DataSize;

/**
 * Every kind of invalid {@code outbox.*} value stops the start with Spring Boot's
 * {@link InvalidConfigurationPropertyValueException}, naming the property and its value, so that every such message
 * has one shape and Boot's failure analyzer explains it.
 */
class InvalidOutboxPropertiesTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class,
                    OutboxHealthAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void anInvalidRelaySettingNamesItsPropertyNotTheEnginesComponent() {
        this.runner.withPropertyValues("outbox.relay.batch-size=0").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.relay.batch-size");
            assertThat(invalid.getValue()).isEqualTo(0);
            assertThat(invalid.getReason()).isEqualTo("It must be between 1 and 10000.");
            assertThat(invalid).hasMessageNotContaining("RelaySettings");
        });
    }

    @Test
    void anInvalidRelaySettingShowsTheValueAsTheUserWroteIt() {
        this.runner.withPropertyValues("outbox.relay.max-batch-bytes=0B").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.relay.max-batch-bytes");
            assertThat(invalid.getValue()).isEqualTo(DataSize.ofBytes(0));
        });
        this.runner
                .withPropertyValues("outbox.relay.retry.initial-delay=10s", "outbox.relay.retry.max-delay=1s")
                .run(context -> {
                    InvalidConfigurationPropertyValueException invalid = rootCause(context);
                    assertThat(invalid.getName()).isEqualTo("outbox.relay.retry.max-delay");
                    assertThat(invalid.getValue()).isEqualTo(Duration.ofSeconds(1));
                    assertThat(invalid.getReason()).contains("initial delay (PT10S)");
                });
    }

    @Test
    void everyRelaySettingIsBoundFromAProperty() {
        assertThat(InvalidOutboxProperties.mappedRelaySettings())
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(RelaySettings.class.getRecordComponents())
                        .map(RecordComponent::getName)
                        .toList());
    }

    @Test
    void anInvalidNotifyIntervalNamesItsProperty() {
        this.runner.withPropertyValues("outbox.relay.notify.interval=0ms").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.relay.notify.interval");
            assertThat(invalid.getValue()).isEqualTo(Duration.ZERO);
        });
    }

    @Test
    void anInvalidTableNameSaysWhatIsAllowed() {
        this.runner.withPropertyValues("outbox.table=Outbox-Events").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.table");
            assertThat(invalid.getValue()).isEqualTo("Outbox-Events");
            assertThat(invalid.getReason()).contains("lower-case identifier");
        });
    }

    @Test
    void aTableNameTooLongForItsDeadLetterTableNamesItsProperty() {
        this.runner.withPropertyValues("outbox.table=" + "o".repeat(39)).run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.table");
            assertThat(invalid.getValue()).isEqualTo("o".repeat(39));
            assertThat(invalid.getReason()).contains("at most 38");
        });
    }

    @Test
    void anInvalidHistoryTableNameNamesItsProperty() {
        this.runner.withPropertyValues("outbox.migration.history-table=order").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.migration.history-table");
            assertThat(invalid.getValue()).isEqualTo("order");
        });
    }

    @Test
    void aMaxRecordSizeOfZeroNamesItsProperty() {
        this.runner.withPropertyValues("outbox.max-record-size=0B").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.max-record-size");
            assertThat(invalid.getValue()).isEqualTo(DataSize.ofBytes(0));
        });
    }

    @Test
    void aMaxRequestSizeThatIsNotANumberOfBytesNamesItsPropertyWhereTheWriterReadsIt() {
        // With the relay on, its producer refuses the value first (InvalidProducerConfigurationException, with an
        // analysis of its own); an instance that only writes reads it for the writer's record size limit.
        this.runner
                .withPropertyValues("outbox.relay.enabled=false", "outbox.relay.producer.max.request.size=2MB")
                .run(context -> {
                    InvalidConfigurationPropertyValueException invalid = rootCause(context);
                    assertThat(invalid.getName()).isEqualTo("outbox.relay.producer.max.request.size");
                    assertThat(invalid.getValue()).isEqualTo("2MB");
                    assertThat(invalid.getReason()).contains("positive number of bytes, such as 1048576");
                });
    }

    @Test
    void anInvalidHealthMaxLagNamesItsProperty() {
        this.runner.withPropertyValues("outbox.health.max-lag=0s").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.health.max-lag");
            assertThat(invalid.getValue()).isEqualTo(Duration.ZERO);
        });
    }

    @Test
    void anInvalidHealthFailingCyclesNamesItsProperty() {
        this.runner.withPropertyValues("outbox.health.failing-cycles=0").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.health.failing-cycles");
            assertThat(invalid.getValue()).isEqualTo(0);
        });
    }

    @Test
    void aNegativeMetricsRefreshIntervalNamesItsProperty() {
        this.runner.withPropertyValues("outbox.metrics.refresh-interval=-1s").run(context -> {
            InvalidConfigurationPropertyValueException invalid = rootCause(context);
            assertThat(invalid.getName()).isEqualTo("outbox.metrics.refresh-interval");
            assertThat(invalid.getValue()).isEqualTo(Duration.ofSeconds(-1));
        });
    }

    @Test
    void springBootsFailureAnalyzerShowsThePropertyAsTheUserWroteItAndTheReason() {
        this.runner.withPropertyValues("outbox.relay.concurrency=100").run(context -> {
            Environment environment = new MockEnvironment().withProperty("outbox.relay.concurrency", "100");
            FailureAnalysis analysis = bootsAnalyzer(environment).analyze(context.getStartupFailure());

            assertThat(analysis).isNotNull();
            assertThat(analysis.getDescription())
                    .contains("Invalid value '100' for configuration property 'outbox.relay.concurrency'")
                    .contains("It must be between 1 and 64.");
        });
    }

    private static InvalidConfigurationPropertyValueException rootCause(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        Throwable root = context.getStartupFailure();
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertThat(root).isInstanceOf(InvalidConfigurationPropertyValueException.class);
        return (InvalidConfigurationPropertyValueException) root;
    }

    /** The analyzer Spring Boot registers for this exception, created as Boot creates it, with the environment. */
    private static FailureAnalyzer bootsAnalyzer(Environment environment) throws Exception {
        Class<?> type = ClassUtils.forName(
                "org.springframework.boot.diagnostics.analyzer.InvalidConfigurationPropertyValueFailureAnalyzer",
                InvalidOutboxPropertiesTests.class.getClassLoader());
        return (FailureAnalyzer)
                ReflectionUtils.accessibleConstructor(type, Environment.class).newInstance(environment);
    }
}
