package dev.txoutbox.autoconfigure;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxPayloadSerializer;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.WakeUpNotifier;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.store.TableName;
import dev.txoutbox.writer.DefaultOutbox;
import dev.txoutbox.writer.JsonPayloadSerializer;
import dev.txoutbox.writer.OutboxEventAdvisor;
import dev.txoutbox.writer.OutboxWriter;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;
import org.springframework.kafka.core.ProducerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of the outbox's writing side: the tables (their dialect, migrations and check), the payload
 * serializer, the writer, the {@link Outbox} facade and the {@code @OutboxEvent} advisor; the notifier that wakes up
 * the relays of other instances after a commit; the dead letters and their actuator endpoint; the table of processed
 * event ids that consumer-side de-duplication uses.
 *
 * <p>It runs after the transaction auto-configuration, so that the advisor is registered after Spring's transaction
 * advisor and runs inside the transaction of an annotated method.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
            "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration"
        })
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(OutboxProperties.class)
public final class OutboxAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxDialect outboxDialect(DataSource dataSource) {
        return OutboxDialects.detect(dataSource);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxStore outboxStore(DataSource dataSource, OutboxDialect dialect, OutboxProperties properties) {
        return new OutboxStore(
                dataSource,
                dialect,
                tableName("outbox.table", properties.getTable(), TableName::outboxTable),
                properties.getRelay().getDeadLetters().isParkKeys());
    }

    static TableName tableName(String property, String value, Function<String, TableName> validation) {
        try {
            return validation.apply(value);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("Invalid value of " + property + ": " + ex.getMessage(), ex);
        }
    }

    @Bean
    @ConditionalOnMissingBean
    DeadLetters outboxDeadLetters(OutboxStore store, OutboxDialect dialect, OutboxSchema schema) {
        return new DeadLetters(store.dataSource(), dialect, store.table());
    }

    @Bean
    @ConditionalOnMissingBean
    ProcessedEvents outboxProcessedEvents(OutboxStore store, OutboxDialect dialect, OutboxSchema schema) {
        return new ProcessedEvents(store.dataSource(), dialect, store.table());
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxSchema outboxSchema(OutboxStore store, OutboxDialect dialect, OutboxProperties properties) {
        return new OutboxSchema(store, dialect, properties.getMigration());
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxPayloadSerializer outboxPayloadSerializer(ObjectProvider<JsonMapper> jsonMapper) {
        return new JsonPayloadSerializer(
                jsonMapper.getIfAvailable(() -> JsonMapper.builder().build()));
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxWriter outboxWriter(
            OutboxStore store,
            OutboxSchema schema,
            OutboxPayloadSerializer serializer,
            OutboxCommitListener commitListener,
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
                RelayProducerConfiguration.maxRecordSize(
                        applicationProducerFactory.getIfUnique(), kafkaProperties.getIfAvailable(), properties));
    }

    @Bean
    OutboxCommitListener outboxCommitListener(
            ObjectProvider<OutboxRelay> relays,
            ObjectProvider<WakeUpNotifier> otherInstances,
            ObjectProvider<OutboxMetrics> metrics) {
        return new OutboxCommitListener(relays, otherInstances, metrics);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "outbox.relay.notify.enabled", matchIfMissing = true)
    WakeUpNotifier outboxWakeUpNotifier(OutboxStore store, OutboxDialect dialect, OutboxProperties properties) {
        return new WakeUpNotifier(
                store.dataSource(),
                dialect,
                store.table(),
                properties.getRelay().getNotify().getInterval());
    }

    private static Supplier<Map<String, String>> traceContext(@Nullable TraceContextHeaders headers) {
        return headers != null ? headers : Map::of;
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxStatisticsCache outboxStatisticsCache(OutboxStore store, OutboxSchema schema, OutboxProperties properties) {
        return new OutboxStatisticsCache(store, properties.getMetrics().getRefreshInterval());
    }

    @Bean
    @ConditionalOnMissingBean
    Outbox outbox(OutboxWriter writer) {
        return new DefaultOutbox(writer);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Tracer.class)
    static class OutboxTracingConfiguration {

        @Bean
        @ConditionalOnMissingBean
        TraceContextHeaders outboxTraceContextHeaders(
                ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
            return new TraceContextHeaders(tracer, propagator);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(Endpoint.class)
    static class OutboxEndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        @ConditionalOnAvailableEndpoint
        OutboxEndpoint outboxEndpoint(OutboxStore store, DeadLetters deadLetters, ObjectProvider<OutboxRelay> relays) {
            return new OutboxEndpoint(store, deadLetters, relays);
        }
    }

    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static OutboxEventAdvisor outboxEventAdvisor(
            ObjectProvider<OutboxWriter> writer, ConfigurableListableBeanFactory beanFactory) {
        return new OutboxEventAdvisor(writer::getObject, beanFactory);
    }
}
