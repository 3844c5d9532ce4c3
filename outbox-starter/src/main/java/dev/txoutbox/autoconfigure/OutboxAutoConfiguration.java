package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.WakeUpNotifier;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.store.TableName;
import java.util.function.Function;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configuration of the outbox's tables (their dialect, migrations and check) and what the writer's commits
 * trigger: the notifier that wakes up the relays of other instances after a commit; the dead letters and their
 * actuator endpoint; the table of processed event ids that consumer-side de-duplication uses. The writer is
 * configured by {@code dev.txoutbox.writer.OutboxWriterAutoConfiguration}.
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

    @Bean
    @ConditionalOnMissingBean
    OutboxStatisticsCache outboxStatisticsCache(OutboxStore store, OutboxSchema schema, OutboxProperties properties) {
        return new OutboxStatisticsCache(store, properties.getMetrics().getRefreshInterval());
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
}
