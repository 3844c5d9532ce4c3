package dev.txoutbox.writer;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.autoconfigure.OutboxProperties;
import dev.txoutbox.autoconfigure.OutboxSerializationProperties;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.store.OutboxStore;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.DependsOn;
import org.springframework.context.annotation.Role;
import org.springframework.kafka.core.ProducerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of the outbox's writing side: the payload serializer, the writer, the {@link Outbox} facade and
 * the {@link OutboxEvent @OutboxEvent} advisor, and the trace context kept with each event when Micrometer Tracing is
 * present. An application replaces the serializer or the facade by declaring a bean of its type; without a serializer
 * bean, {@code outbox.serialization.value-serializer} names a Kafka serializer to use instead of JSON.
 *
 * <p>It runs after the transaction auto-configuration, so that the advisor is registered after Spring's transaction
 * advisor and runs inside the transaction of an annotated method; and after the store's auto-configuration, whose
 * {@code outboxSchema} bean (the table exists before the first write) and {@code outboxCommitListener} bean (what
 * happens after a commit that wrote rows) the writer uses by name, their types being private to that package.
 */
@AutoConfiguration(
        after = OutboxStoreAutoConfiguration.class,
        afterName = {
            "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
            "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration"
        })
@ConditionalOnBean(OutboxStore.class)
public final class OutboxWriterAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxPayloadSerializer outboxPayloadSerializer(
            ObjectProvider<JsonMapper> jsonMapper,
            OutboxProperties properties,
            ObjectProvider<KafkaProperties> kafkaProperties) {
        OutboxSerializationProperties serialization = properties.getSerialization();
        Class<?> valueSerializer = serialization.getValueSerializer();
        if (valueSerializer != null) {
            return OutboxPayloadSerializer.of(ConfiguredSerializers.create(
                    valueSerializer,
                    "outbox.serialization.value-serializer",
                    ConfiguredSerializers.configuration(kafkaProperties.getIfAvailable(), serialization),
                    false));
        }
        return new JsonPayloadSerializer(
                jsonMapper.getIfAvailable(() -> JsonMapper.builder().build()));
    }

    /**
     * The writer's serializer of events: the payload serializer, and the relay's key serializer (which the relay's
     * producer runs) to check keys with when the event is written.
     */
    @Bean
    EventSerializer outboxEventSerializer(
            OutboxPayloadSerializer payloadSerializer,
            OutboxProperties properties,
            ObjectProvider<KafkaProperties> kafkaProperties) {
        OutboxSerializationProperties serialization = properties.getSerialization();
        Class<?> keySerializer = serialization.getKeySerializer();
        return new EventSerializer(
                payloadSerializer,
                keySerializer != null
                        ? ConfiguredSerializers.create(
                                keySerializer,
                                "outbox.serialization.key-serializer",
                                ConfiguredSerializers.configuration(kafkaProperties.getIfAvailable(), serialization),
                                true)
                        : null);
    }

    @Bean
    @DependsOn("outboxSchema")
    OutboxWriter outboxWriter(
            OutboxStore store,
            EventSerializer serializer,
            @Qualifier("outboxCommitListener") Consumer<Map<String, Integer>> commitListener,
            ObjectProvider<TraceContextHeaders> traceContext,
            OutboxProperties properties,
            ObjectProvider<ProducerFactory<?, ?>> applicationProducerFactory,
            ObjectProvider<KafkaProperties> kafkaProperties) {
        // The limit follows the producer the relay runs with, which this application's relay or another's builds
        // from the same configuration.
        return new OutboxWriter(
                store,
                serializer,
                commitListener,
                traceContext(traceContext.getIfAvailable()),
                MaxRecordSizeResolver.resolve(
                        applicationProducerFactory.getIfUnique(), kafkaProperties.getIfAvailable(), properties));
    }

    private static Supplier<Map<String, String>> traceContext(@Nullable TraceContextHeaders headers) {
        return headers != null ? headers : Map::of;
    }

    @Bean
    @ConditionalOnMissingBean
    Outbox outbox(OutboxWriter writer) {
        return new DefaultOutbox(writer);
    }

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static OutboxEventAdvisor outboxEventAdvisor(
            ObjectProvider<OutboxWriter> writer, ConfigurableListableBeanFactory beanFactory) {
        return new OutboxEventAdvisor(writer::getObject, beanFactory);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Tracer.class)
    static class OutboxTracingConfiguration {

        @Bean
        TraceContextHeaders outboxTraceContextHeaders(
                ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
            return new TraceContextHeaders(tracer, propagator);
        }
    }
}
