package dev.txoutbox.writer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import io.micrometer.tracing.Tracer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.springframework.aop.Advisor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.ProducerFactory;

/** Every branch of the writer's auto-configuration, against a real PostgreSQL database. */
class OutboxWriterAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void configuresTheWriterTheFacadeTheAdvisorAndTheJsonSerializer() {
        this.runner.run(context -> {
            assertThat(context).hasSingleBean(OutboxWriter.class);
            assertThat(context).getBean(Outbox.class).isInstanceOf(DefaultOutbox.class);
            assertThat(context).getBean(OutboxPayloadSerializer.class).isInstanceOf(JsonPayloadSerializer.class);
            assertThat(context).getBean("outboxEventAdvisor", Advisor.class).isInstanceOf(OutboxEventAdvisor.class);
            assertThat(context).hasSingleBean(TraceContextHeaders.class);
        });
    }

    @Test
    void theApplicationsSerializerAndFacadeReplaceOurs() {
        this.runner.withUserConfiguration(UserBeans.class).run(context -> {
            assertThat(context.getBean(OutboxPayloadSerializer.class)).isSameAs(UserBeans.SERIALIZER);
            assertThat(context.getBean(Outbox.class)).isSameAs(UserBeans.OUTBOX);
            assertThat(context).doesNotHaveBean(DefaultOutbox.class);
            assertThat(context).hasSingleBean(OutboxWriter.class);
        });
    }

    @Test
    void withoutMicrometerTracingNoTraceContextIsKeptAndTheWriterStillRuns() {
        this.runner.withClassLoader(new FilteredClassLoader(Tracer.class)).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(TraceContextHeaders.class);
            assertThat(context).hasSingleBean(OutboxWriter.class);
        });
    }

    @Test
    void withoutTheOutboxsStoreNothingIsConfigured() {
        new ApplicationContextRunner()
                .withConfiguration(
                        AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxWriterAutoConfiguration.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(OutboxWriter.class);
                    assertThat(context).doesNotHaveBean(Outbox.class);
                    assertThat(context).doesNotHaveBean(OutboxEventAdvisor.class);
                });
    }

    @Test
    void theWritersLimitFollowsTheProducersMaxRequestSizeAsTheRelayRunsIt() {
        ApplicationContextRunner writer = this.runner;
        writer.run(context ->
                assertThat(context.getBean(OutboxWriter.class).maxRecordSize()).isEqualTo(MaxRecordSize.KAFKA_DEFAULT));
        writer.withPropertyValues("spring.kafka.producer.properties.max.request.size=3000")
                .run(context -> assertThat(context.getBean(OutboxWriter.class).maxRecordSize())
                        .isEqualTo(new MaxRecordSize(3000, "spring.kafka.producer.properties.max.request.size")));
        writer.withPropertyValues(
                        "spring.kafka.producer.properties.max.request.size=3000",
                        "outbox.relay.producer.max.request.size=2000")
                .run(context -> assertThat(context.getBean(OutboxWriter.class).maxRecordSize())
                        .isEqualTo(new MaxRecordSize(2000, "outbox.relay.producer.max.request.size")));
        writer.withPropertyValues("outbox.relay.producer.max.request.size=2000", "outbox.max-record-size=5KB")
                .run(context -> assertThat(context.getBean(OutboxWriter.class).maxRecordSize())
                        .isEqualTo(new MaxRecordSize(5120, "outbox.max-record-size")));
    }

    @Test
    void theWritersLimitFollowsSpringKafkaPropertiesAsTheRelaysProducerDoes() {
        this.runner
                .withPropertyValues("spring.kafka.properties.max.request.size=5242880")
                .run(context -> assertThat(context.getBean(OutboxWriter.class).maxRecordSize())
                        .isEqualTo(new MaxRecordSize(5242880, "spring.kafka.properties.max.request.size")));
    }

    @Test
    void theWritersLimitFollowsTheApplicationsOwnProducerFactory() {
        this.runner
                .withBean(
                        ProducerFactory.class,
                        () -> new DefaultKafkaProducerFactory<>(Map.<String, Object>of(
                                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                                EmbeddedInfrastructure.kafkaBootstrapServers(),
                                ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                                4_000_000)))
                .run(context -> assertThat(context.getBean(OutboxWriter.class).maxRecordSize())
                        .isEqualTo(
                                new MaxRecordSize(4_000_000, "max.request.size of the application's ProducerFactory")));
    }

    @Test
    void anInvalidMaxRequestSizeFailsStartUpNamingTheProperty() {
        this.runner
                .withPropertyValues("outbox.relay.producer.max.request.size=2MB")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasMessageContaining("outbox.relay.producer.max.request.size with value '2MB' is invalid"));
    }

    @Test
    void aValueSerializerClassIsConfiguredWithSpringKafkasPropertiesAndTheOutboxsOverThem() {
        this.runner
                .withPropertyValues(
                        "outbox.serialization.value-serializer=" + ConfigEchoingSerializer.class.getName(),
                        "spring.kafka.properties.registry.url=http://kafka-wide",
                        "spring.kafka.producer.properties.registry.auto-register=true",
                        "outbox.serialization.properties.registry.url=http://outbox-only")
                .run(context -> {
                    byte[] value = context.getBean(OutboxPayloadSerializer.class)
                            .serialize("orders", new RecordHeaders(), "order-1");

                    assertThat(new String(value, StandardCharsets.UTF_8))
                            .isEqualTo("value for orders from http://outbox-only, auto-register true: order-1");
                });
    }

    @Test
    void aKeySerializerClassIsConfiguredForKeysAndChecksEachKeyWhenTheEventIsWritten() {
        this.runner
                .withPropertyValues(
                        "outbox.serialization.key-serializer=" + ConfigEchoingSerializer.class.getName(),
                        "outbox.serialization.properties.registry.url=http://outbox-only")
                .run(context -> {
                    EventSerializer serializer = context.getBean(EventSerializer.class);

                    assertThat(serializer
                                    .serialize("{}", "k-1", Map.of(), "Test.write(..)", "orders", "Placed")
                                    .value())
                            .asString(StandardCharsets.UTF_8)
                            .isEqualTo("{}");
                    assertThatExceptionOfType(OutboxException.class)
                            .isThrownBy(() -> serializer.serialize(
                                    "{}",
                                    ConfigEchoingSerializer.REFUSED,
                                    Map.of(),
                                    "Test.write(..)",
                                    "orders",
                                    "Placed"))
                            .withMessageContaining("outbox.serialization.key-serializer")
                            .withMessageContaining("key for orders from http://outbox-only refused");
                });
    }

    @Test
    void aClassThatIsNotASerializerStopsTheStartNamingTheProperty() {
        this.runner
                .withPropertyValues("outbox.serialization.value-serializer=java.lang.String")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasMessageContaining("outbox.serialization.value-serializer with value 'java.lang.String'")
                        .hasMessageContaining("Not a Kafka serializer"));
    }

    /** Writes what it was configured with, and refuses one key, as a registry's serializer would a schema. */
    public static final class ConfigEchoingSerializer implements Serializer<Object> {

        static final String REFUSED = "refused-key";

        private String configured = "unconfigured";

        @Override
        public void configure(Map<String, ?> configs, boolean isKey) {
            this.configured = (isKey ? "key" : "value") + " for %s from " + configs.get("registry.url")
                    + (isKey ? "" : ", auto-register " + configs.get("registry.auto-register"));
        }

        @Override
        public byte[] serialize(String topic, Object data) {
            if (REFUSED.equals(data)) {
                throw new SerializationException(this.configured.formatted(topic) + " refused");
            }
            return (this.configured.formatted(topic) + ": " + data).getBytes(StandardCharsets.UTF_8);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {

        static final OutboxPayloadSerializer SERIALIZER = (topic, headers, payload) -> new byte[0];

        static final Outbox OUTBOX = new Outbox() {

            @Override
            public UUID write(String topic, @Nullable String key, @Nullable Object payload) {
                return UUID.randomUUID();
            }

            @Override
            public UUID write(OutboxMessage message) {
                return UUID.randomUUID();
            }
        };

        @Bean
        OutboxPayloadSerializer mySerializer() {
            return SERIALIZER;
        }

        @Bean
        Outbox myOutbox() {
            return OUTBOX;
        }
    }
}
