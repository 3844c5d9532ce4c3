package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.postgresql.WakeUpNotifier;
import dev.txoutbox.store.ConnectionPoolerCheck;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.store.TableName;
import java.time.Duration;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the outbox's store: the tables on the application's {@link DataSource} (the one
 * {@code outbox.datasource} names when there are several; their dialect,
 * migrations and check, after the check for a connection pooler that would break prepared statements), the dead
 * letters, the cached statistics that metrics and health read, the listener that wakes up this instance's relays
 * after a commit and the notifier that wakes up those of other instances.
 *
 * <p>The writer is configured by {@code dev.txoutbox.writer.OutboxWriterAutoConfiguration} and consumer-side
 * de-duplication by {@code dev.txoutbox.consumer.ConsumerDeduplicationAutoConfiguration}, both on top of this store;
 * the table of processed event ids they use is created here with the others.
 */
@AutoConfiguration(
        afterName = {
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
            "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
            "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration"
        })
@ConditionalOnBean(DataSource.class)
@EnableConfigurationProperties(OutboxProperties.class)
public final class OutboxStoreAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxDialect outboxDialect(ListableBeanFactory beans, OutboxProperties properties) {
        return OutboxDialects.detect(OutboxDataSource.resolve(beans, properties));
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxStore outboxStore(ListableBeanFactory beans, OutboxDialect dialect, OutboxProperties properties) {
        DataSource dataSource = OutboxDataSource.resolve(beans, properties);
        OutboxDataSource.checkTransactionManager(beans, properties, dataSource);
        boolean logMode = properties.getRelay().getMode() == RelayMode.LOG;
        InvalidOutboxProperties.require(
                !logMode || OutboxDialects.postgres().productName().equals(dialect.productName()),
                "outbox.relay.mode",
                "log",
                "Log mode reads PostgreSQL's write-ahead log, and the outbox's database is " + dialect.productName()
                        + ". Set outbox.relay.mode=poll.");
        // In log mode the log orders the writers of a key by their commits: they need not take turns.
        return new OutboxStore(
                dataSource,
                dialect,
                InvalidOutboxProperties.bind(
                        "outbox.table", properties.getTable(), () -> TableName.outboxTable(properties.getTable())),
                properties.getRelay().getDeadLetters().isParkKeys(),
                !logMode);
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
    OutboxSchema outboxSchema(OutboxStore store, OutboxDialect dialect, OutboxProperties properties) {
        // Before the migrations, which a pooler that breaks prepared statements would break half-way.
        checkPooler(store, dialect, properties.getPooler());
        return new OutboxSchema(store, dialect, properties.getMigration());
    }

    /**
     * Stops the start when the data source goes through a pooler in transaction mode that would break the driver's
     * server-side prepared statements, unless the pooler is said to keep them; logs what the check found otherwise.
     */
    private static void checkPooler(OutboxStore store, OutboxDialect dialect, OutboxProperties.Pooler pooler) {
        if (!pooler.isCheck() || !OutboxDialects.postgres().productName().equals(dialect.productName())) {
            return;
        }
        ConnectionPoolerCheck.verify(store.dataSource(), pooler.isKeepsPreparedStatements());
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
    @Nullable
    WakeUpNotifier outboxWakeUpNotifier(OutboxStore store, OutboxDialect dialect, OutboxProperties properties) {
        if (!dialect.wakesOtherInstances() || properties.getRelay().getMode() == RelayMode.LOG) {
            // No notification between sessions (MariaDB, MySQL): the relays of the other instances find this
            // instance's rows at their next poll. In log mode the log itself brings the commits to the relay. Spring
            // keeps a null bean, which the providers of it skip.
            return null;
        }
        Duration interval = properties.getRelay().getNotify().getInterval();
        InvalidOutboxProperties.requirePositive("outbox.relay.notify.interval", interval, "20ms");
        return new WakeUpNotifier(store.dataSource(), dialect, store.table(), interval);
    }

    @Bean
    OutboxStatisticsCache outboxStatisticsCache(OutboxStore store, OutboxSchema schema, OutboxProperties properties) {
        return new OutboxStatisticsCache(store, properties.getMetrics().getRefreshInterval());
    }
}
