package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.kafka.InvalidProducerConfigurationException;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.relay.kafka.RelayKeySerializer;
import dev.txoutbox.relay.kafka.TopicDurabilityCheck;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.UUIDSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.UrlResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;
import org.springframework.util.StringUtils;

/** The relay's Kafka side as the auto-configuration sets it up: its producer's settings and the topic check. */
class KafkaRelayConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void aProducerSettingThatContradictsIdempotenceFailsStartUpNamingTheSettingItsValueAndTheFix() {
        this.runner
                .withPropertyValues("outbox.relay.producer.max.in.flight.requests.per.connection=10")
                .run(context -> {
                    assertThat(context)
                            .getFailure()
                            .rootCause()
                            .isInstanceOf(InvalidProducerConfigurationException.class)
                            .hasMessageContaining("max.in.flight.requests.per.connection=10")
                            .hasMessageContaining("idempotent")
                            .hasMessageContaining("acks=all");
                    FailureAnalysis analysis =
                            new InvalidProducerConfigurationFailureAnalyzer().analyze(context.getStartupFailure());
                    assertThat(analysis).isNotNull();
                    assertThat(analysis.getDescription())
                            .contains("max.in.flight.requests.per.connection=10")
                            .contains("at most 5");
                    assertThat(analysis.getAction())
                            .contains("outbox.relay.producer.max.in.flight.requests.per.connection")
                            .contains("spring.kafka.producer.*");
                    assertThat(registeredFailureAnalyzers())
                            .as("Spring Boot finds the analyzer")
                            .contains(InvalidProducerConfigurationFailureAnalyzer.class.getName());
                });
    }

    @Test
    void aWrongProducerSettingFromTheApplicationsKafkaPropertiesFailsStartUpToo() {
        this.runner.withPropertyValues("spring.kafka.producer.retries=0").run(context -> {
            assertThat(context)
                    .getFailure()
                    .rootCause()
                    .isInstanceOf(InvalidProducerConfigurationException.class)
                    .hasMessageContaining("retries=0");
            assertThat(new InvalidProducerConfigurationFailureAnalyzer()
                            .analyze(context.getStartupFailure())
                            .getAction())
                    .contains("outbox.relay.producer.retries");
        });
    }

    @Test
    void theRelaysProducerSendsKeysWithTheKeySerializerAndItsPropertiesAndValuesAsTheyWereWritten() {
        this.runner
                .withPropertyValues(
                        "spring.kafka.producer.key-serializer=" + LongSerializer.class.getName(),
                        "spring.kafka.producer.value-serializer=" + LongSerializer.class.getName(),
                        "outbox.serialization.key-serializer=" + UUIDSerializer.class.getName(),
                        "outbox.serialization.properties.registry.url=http://registry")
                .run(context -> assertThat(
                                context.getBean(KafkaRecordPublisher.class).producerConfiguration())
                        .containsEntry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, RelayKeySerializer.class.getName())
                        .containsEntry("outbox.key.serializer.delegate", UUIDSerializer.class)
                        .containsEntry(
                                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName())
                        .containsEntry("registry.url", "http://registry"));
        this.runner
                .withPropertyValues("spring.kafka.producer.key-serializer=" + LongSerializer.class.getName())
                .run(context -> assertThat(
                                context.getBean(KafkaRecordPublisher.class).producerConfiguration())
                        .containsEntry(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()));
    }

    @Test
    void theTopicDurabilityCheckHearsTheRelayByDefault() {
        this.runner.run(context -> {
            assertThat(context).hasSingleBean(TopicDurabilityCheck.class);
            assertThat(context).hasSingleBean(OutboxRelay.class);
        });
    }

    @Test
    void theTopicDurabilityCheckCanBeTurnedOff() {
        this.runner
                .withPropertyValues("outbox.relay.check-topic-durability=false")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(TopicDurabilityCheck.class);
                    assertThat(context).hasSingleBean(KafkaRecordPublisher.class);
                });
    }

    @Test
    void aPublisherOfTheUsersOwnIsNotCheckedAsKafka() {
        this.runner
                .withBean(RecordPublisher.class, () -> record -> CompletableFuture.completedFuture(null))
                .run(context -> {
                    assertThat(context).doesNotHaveBean(KafkaRecordPublisher.class);
                    assertThat(context).doesNotHaveBean(TopicDurabilityCheck.class);
                });
    }

    private static List<String> registeredFailureAnalyzers() throws IOException {
        List<String> names = new ArrayList<>();
        Enumeration<URL> files =
                KafkaRelayConfigurationTests.class.getClassLoader().getResources("META-INF/spring.factories");
        while (files.hasMoreElements()) {
            String value = PropertiesLoaderUtils.loadProperties(new UrlResource(files.nextElement()))
                    .getProperty(FailureAnalyzer.class.getName(), "");
            names.addAll(StringUtils.commaDelimitedListToSet(value.replace(" ", "")));
        }
        return names;
    }
}
