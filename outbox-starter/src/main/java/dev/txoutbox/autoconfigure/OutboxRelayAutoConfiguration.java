package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.CommitLog;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.relay.kafka.TopicDurabilityCheck;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.relay.postgresql.WakeUpListener;
import dev.txoutbox.relay.postgresql.WakeUpNotifier;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxStore;
import io.micrometer.observation.ObservationRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.util.StringUtils;

/**
 * Auto-configuration of the relay: a Kafka publisher with a producer of its own (the application's producer
 * configuration, plus {@code outbox.relay.producer.*}) and the relay, started and stopped with the application
 * context, after the outbox's tables are in place; the listener that wakes the relay up when another instance
 * committed rows, started and stopped with it; and the check that warns about topics that cannot keep acknowledged
 * records. {@link OutboxProducerFactoryCustomizer} beans adjust the relay's producer factory.
 */
@AutoConfiguration(
        after = OutboxStoreAutoConfiguration.class,
        afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass(KafkaTemplate.class)
@ConditionalOnBean(OutboxStore.class)
@ConditionalOnBooleanProperty(name = "outbox.relay.enabled", matchIfMissing = true)
public final class OutboxRelayAutoConfiguration {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelayAutoConfiguration.class);

    @Bean
    @ConditionalOnMissingBean
    RelaySettings outboxRelaySettings(OutboxProperties properties) {
        return InvalidOutboxProperties.relaySettings(properties.getRelay());
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(RecordPublisher.class)
    KafkaRecordPublisher outboxRecordPublisher(
            ObjectProvider<ProducerFactory<?, ?>> applicationProducerFactory,
            ObjectProvider<KafkaProperties> kafkaProperties,
            OutboxProperties properties,
            RelaySettings settings,
            ObjectProvider<OutboxProducerFactoryCustomizer> customizers) {
        Map<String, Object> producer = RelayProducerConfiguration.merge(
                applicationProducerFactory.getIfUnique(), kafkaProperties.getIfAvailable(), properties);
        // Checked here, without connecting: a setting the Kafka client refuses stops the application's start
        // (InvalidProducerConfigurationException, explained by a failure analyzer) rather than failing every send.
        return KafkaRecordPublisher.create(
                producer,
                settings,
                factory -> customizers.orderedStream().forEach(customizer -> customizer.customize(factory)));
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnBean(KafkaRecordPublisher.class)
    @ConditionalOnBooleanProperty(name = "outbox.relay.check-topic-durability", matchIfMissing = true)
    TopicDurabilityCheck outboxTopicDurabilityCheck(KafkaRecordPublisher publisher) {
        return TopicDurabilityCheck.of(publisher);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxRelay outboxRelay(
            OutboxStore store,
            OutboxSchema schema,
            RecordPublisher publisher,
            RelaySettings settings,
            ObjectProvider<OutboxRelayListener> listeners,
            ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<CommitLog> commitLog,
            OutboxProperties properties) {
        CommitLog log = commitLog.getIfUnique();
        if (log == null) {
            LeftoverReplicationSlot.warnIfAny(store, properties.getRelay().getLog());
        }
        List<OutboxRelayListener> relayListeners = listeners.orderedStream().toList();
        OutboxRelay relay = log != null
                ? OutboxRelay.tailing(store, publisher, settings, relayListeners, log)
                : new OutboxRelay(store, publisher, settings, relayListeners);
        observations.ifAvailable(relay::setObservationRegistry);
        return relay;
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "outbox.relay.notify.enabled", matchIfMissing = true)
    @Nullable
    WakeUpListener outboxWakeUpListener(
            OutboxStore store,
            OutboxDialect dialect,
            OutboxProperties properties,
            ObjectProvider<DataSourceProperties> dataSourceProperties,
            ObjectProvider<OutboxRelay> relays,
            ObjectProvider<WakeUpNotifier> notifier) {
        if (properties.getRelay().getMode() == RelayMode.LOG) {
            // The log brings every instance's commits to the one relay that reads it.
            return null;
        }
        if (!dialect.wakesOtherInstances()) {
            log.info(
                    "Outbox: {} has no notifications between sessions; the relays of table '{}' find the rows that"
                            + " other instances commit at their poll interval ({}), and this instance's own at once",
                    dialect.productName(),
                    store.table(),
                    properties.getRelay().getPollInterval());
            return null;
        }
        // This instance's own commits woke its relays up already; its notifications are ignored.
        WakeUpNotifier own = notifier.getIfAvailable();
        String ownInstanceId =
                own != null ? own.instanceId() : UUID.randomUUID().toString();
        OutboxProperties.Notify notify = properties.getRelay().getNotify();
        // Past a pooler in transaction mode, the listener listens on connections of its own; its test notifications
        // still go out the way the notifier's do, through the application's DataSource.
        // spring.datasource.* describes the DataSource Boot builds, which is not the outbox's when outbox.datasource
        // names another: then the listener's credentials are its own properties only.
        DataSource listening = StringUtils.hasText(notify.getListenerUrl())
                ? ListenerDataSource.of(
                        notify, properties.getDatasource() == null ? dataSourceProperties.getIfAvailable() : null)
                : store.dataSource();
        return new WakeUpListener(
                listening,
                store.dataSource(),
                dialect,
                store.table(),
                ownInstanceId,
                () -> relays.forEach(OutboxRelay::wakeUp));
    }

    @Bean
    RelayHealthTracker outboxRelayHealthTracker(RelaySettings settings) {
        return new RelayHealthTracker(Clock.systemUTC(), settings);
    }

    /** Log mode: the relay reads the table's committed inserts from PostgreSQL's write-ahead log. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.postgresql.PGConnection")
    @ConditionalOnProperty(name = "outbox.relay.mode", havingValue = "log")
    static final class LogModeConfiguration {

        /**
         * Creates the log of the outbox table's commits in log mode, and checks at start-up that the server allows it,
         * making the publication and the replication slot when they are missing.
         */
        @Bean
        @ConditionalOnMissingBean(CommitLog.class)
        ReplicationSlotLog outboxCommitLog(
                OutboxStore store,
                OutboxSchema schema,
                OutboxProperties properties,
                ObjectProvider<DataSourceProperties> dataSourceProperties) {
            OutboxRelayLogProperties logProperties = properties.getRelay().getLog();
            ReplicationSlotLog.Connector connector = ReplicationConnections.of(
                    logProperties,
                    store.dataSource(),
                    properties.getDatasource() == null ? dataSourceProperties.getIfAvailable() : null);
            ReplicationSlotLog defaults = ReplicationSlotLog.of(store.dataSource(), store.table(), connector);
            ReplicationSlotLog log = new ReplicationSlotLog(
                    store.dataSource(),
                    store.table(),
                    connector,
                    InvalidOutboxProperties.bind(
                            "outbox.relay.log.slot",
                            logProperties.getSlot(),
                            () -> ReplicationSlotLog.checkName(
                                    "slot", Objects.requireNonNullElse(logProperties.getSlot(), defaults.slot()))),
                    InvalidOutboxProperties.bind(
                            "outbox.relay.log.publication",
                            logProperties.getPublication(),
                            () -> ReplicationSlotLog.checkName(
                                    "publication",
                                    Objects.requireNonNullElse(
                                            logProperties.getPublication(), defaults.publication()))));
            log.prepare();
            return log;
        }

        @Bean
        ReplicationSlotMonitor outboxReplicationSlotMonitor(
                ReplicationSlotLog log, ObjectProvider<OutboxRelay> relay, OutboxProperties properties) {
            return new ReplicationSlotMonitor(
                    log,
                    relay::getIfAvailable,
                    properties.getMetrics().getRefreshInterval(),
                    properties.getRelay().getLog().getMaxSlotLag());
        }
    }
}
