package dev.txoutbox.autoconfigure;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;
import org.springframework.util.unit.DataSize;

/** Configuration of the outbox: its table, its migrations and its relay. */
@ConfigurationProperties("outbox")
public class OutboxProperties {

    /**
     * Name of the outbox table, in the connection's current schema: a lower-case identifier of at most 38 letters,
     * digits and underscores.
     */
    private String table = "outbox_event";

    /**
     * Largest event the writer accepts, counted as a Kafka record: payload, key and headers, plus about a hundred
     * bytes of Kafka's framing. A larger event fails its business transaction. Unset, it follows the producer's
     * max.request.size as the relay runs it: outbox.relay.producer.max.request.size, else the application's producer
     * configuration (its ProducerFactory bean, which has spring.kafka.properties.* and
     * spring.kafka.producer.properties.*), else Kafka's default of 1 MiB.
     */
    private @Nullable DataSize maxRecordSize;

    /**
     * Name of the DataSource bean that holds the outbox tables, when the application has several. Unset, the
     * application's only DataSource, or its @Primary one.
     */
    private @Nullable String datasource;

    /**
     * Name of the transaction manager bean of the outbox's DataSource, checked at start-up to manage that DataSource:
     * the one whose transactions the application writes events in, as in @Transactional("...").
     */
    private @Nullable String transactionManager;

    private final Migration migration = new Migration();

    private final Relay relay = new Relay();

    private final Consumer consumer = new Consumer();

    private final Metrics metrics = new Metrics();

    private final Health health = new Health();

    private final Pooler pooler = new Pooler();

    @NestedConfigurationProperty
    private final OutboxSerializationProperties serialization = new OutboxSerializationProperties();

    public String getTable() {
        return this.table;
    }

    public void setTable(String table) {
        this.table = table;
    }

    public @Nullable DataSize getMaxRecordSize() {
        return this.maxRecordSize;
    }

    public void setMaxRecordSize(@Nullable DataSize maxRecordSize) {
        this.maxRecordSize = maxRecordSize;
    }

    public @Nullable String getDatasource() {
        return this.datasource;
    }

    public void setDatasource(@Nullable String datasource) {
        this.datasource = datasource;
    }

    public @Nullable String getTransactionManager() {
        return this.transactionManager;
    }

    public void setTransactionManager(@Nullable String transactionManager) {
        this.transactionManager = transactionManager;
    }

    public OutboxSerializationProperties getSerialization() {
        return this.serialization;
    }

    public Migration getMigration() {
        return this.migration;
    }

    public Relay getRelay() {
        return this.relay;
    }

    public Consumer getConsumer() {
        return this.consumer;
    }

    public Metrics getMetrics() {
        return this.metrics;
    }

    public Health getHealth() {
        return this.health;
    }

    public Pooler getPooler() {
        return this.pooler;
    }

    /** The outbox's own Flyway migrations. */
    public static class Migration {

        /**
         * Whether to create and update the outbox table at start-up with the starter's Flyway migrations. Turn it off
         * to apply the scripts (classpath:db/outbox/postgresql in outbox-relay.jar) yourself.
         */
        private boolean enabled = true;

        /** Name of the schema-history table of the outbox's migrations, apart from the application's own. */
        private String historyTable = "outbox_schema_history";

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getHistoryTable() {
            return this.historyTable;
        }

        public void setHistoryTable(String historyTable) {
            this.historyTable = historyTable;
        }
    }

    /** The relay, which publishes outbox rows to Kafka. */
    public static class Relay {

        /** Whether to run the relay in this application. */
        private boolean enabled = true;

        /**
         * How the relay finds the rows to publish: poll claims them from the table, log reads the table's committed
         * inserts from PostgreSQL's write-ahead log (see outbox.relay.log.*). Set it in every application that writes
         * to the table: in log mode, writers take no key lock.
         */
        private RelayMode mode = RelayMode.POLL;

        /** Maximum number of rows one relay cycle claims and publishes. */
        private int batchSize = 500;

        /**
         * How long the relay waits for new rows when no commit woke it up; bounds the delay for rows written by other
         * instances when their wake-up notifications do not arrive. In log mode, how often the reader looks in the
         * table for rows the log handed back to it, and how often a standby tries to take the slot (no more often
         * than once a second).
         */
        private Duration pollInterval = Duration.ofMillis(500);

        /**
         * How long a cycle waits for the broker's acknowledgements before it schedules the unacknowledged records for
         * a retry. Also bounds how long a send may block, and so how long the relay holds its database transaction.
         */
        private Duration sendTimeout = Duration.ofSeconds(30);

        /**
         * How many cycles the relay runs at the same time, each in a thread and a database transaction of its own:
         * while one waits for the broker's acknowledgements, another claims and sends. Poll mode only: in log mode one
         * thread reads the log.
         */
        private int concurrency = 2;

        /**
         * How many cycles all relays on the table run at the same time, in this instance and in all others together.
         * A cycle that finds that many running waits for one of them to end. Beyond a few, more cycles in flight
         * only make each claim read past more rows locked by the others.
         */
        private int tableConcurrency = 4;

        /**
         * How often at most the relay vacuums the outbox table itself, once it has deleted 10,000 rows since its last
         * vacuum. Autovacuum looks at a table at most once per autovacuum_naptime (a minute by default), while the
         * dead rows of a busy queue pile up in front of every claim. 0 leaves the table to autovacuum alone.
         * PostgreSQL only: MariaDB and MySQL purge deleted rows themselves.
         */
        private Duration vacuumInterval = Duration.ofSeconds(1);

        /**
         * Maximum bytes of payload, key and headers one relay cycle claims; a cycle always claims at least one row.
         */
        private DataSize maxBatchBytes = DataSize.ofMegabytes(16);

        /**
         * How long stopping the relay waits for the acknowledgements of records in flight; the rest is left for the
         * next instance. Keep it well under the container's grace period.
         */
        private Duration shutdownTimeout = Duration.ofSeconds(10);

        /**
         * Whether every relay commit waits until the database has flushed it. Off, only cycles that recorded failed
         * sends wait; a database crash or failover can undo the deletes of the last few hundred milliseconds, and
         * those events are published again with the same event ids; nothing acknowledged is lost. PostgreSQL only: on
         * MariaDB and MySQL every commit is as durable as the server's innodb_flush_log_at_trx_commit makes it.
         */
        private boolean synchronousCommit = false;

        /**
         * Whether to check each topic on the relay's first publication to it, and log a warning when it cannot keep
         * acknowledged records: a replication factor below 2, min.insync.replicas below 2, or unclean leader
         * election enabled.
         */
        private boolean checkTopicDurability = true;

        private final Retry retry = new Retry();

        private final DeadLetters deadLetters = new DeadLetters();

        private final Notify notify = new Notify();

        @NestedConfigurationProperty
        private final OutboxRelayLogProperties log = new OutboxRelayLogProperties();

        /**
         * Kafka producer properties for the relay's own producer, on top of spring.kafka.producer.*. acks=all,
         * enable.idempotence=true and the serializers are always enforced.
         */
        private Map<String, String> producer = new LinkedHashMap<>();

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public RelayMode getMode() {
            return this.mode;
        }

        public void setMode(RelayMode mode) {
            this.mode = mode;
        }

        public OutboxRelayLogProperties getLog() {
            return this.log;
        }

        public int getBatchSize() {
            return this.batchSize;
        }

        public void setBatchSize(int batchSize) {
            this.batchSize = batchSize;
        }

        public Duration getPollInterval() {
            return this.pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public Duration getSendTimeout() {
            return this.sendTimeout;
        }

        public void setSendTimeout(Duration sendTimeout) {
            this.sendTimeout = sendTimeout;
        }

        public int getConcurrency() {
            return this.concurrency;
        }

        public void setConcurrency(int concurrency) {
            this.concurrency = concurrency;
        }

        public int getTableConcurrency() {
            return this.tableConcurrency;
        }

        public void setTableConcurrency(int tableConcurrency) {
            this.tableConcurrency = tableConcurrency;
        }

        public Duration getVacuumInterval() {
            return this.vacuumInterval;
        }

        public void setVacuumInterval(Duration vacuumInterval) {
            this.vacuumInterval = vacuumInterval;
        }

        public DataSize getMaxBatchBytes() {
            return this.maxBatchBytes;
        }

        public void setMaxBatchBytes(DataSize maxBatchBytes) {
            this.maxBatchBytes = maxBatchBytes;
        }

        public Duration getShutdownTimeout() {
            return this.shutdownTimeout;
        }

        public void setShutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
        }

        public boolean isSynchronousCommit() {
            return this.synchronousCommit;
        }

        public void setSynchronousCommit(boolean synchronousCommit) {
            this.synchronousCommit = synchronousCommit;
        }

        public boolean isCheckTopicDurability() {
            return this.checkTopicDurability;
        }

        public void setCheckTopicDurability(boolean checkTopicDurability) {
            this.checkTopicDurability = checkTopicDurability;
        }

        public Retry getRetry() {
            return this.retry;
        }

        public DeadLetters getDeadLetters() {
            return this.deadLetters;
        }

        public Notify getNotify() {
            return this.notify;
        }

        public Map<String, String> getProducer() {
            return this.producer;
        }

        public void setProducer(Map<String, String> producer) {
            this.producer = producer;
        }
    }

    /** Retries of failed sends: exponential backoff with jitter. */
    public static class Retry {

        /** Delay before the first retry of a failed record. */
        private Duration initialDelay = Duration.ofSeconds(1);

        /** Factor by which the delay grows with every further failure. */
        private double multiplier = 2.0;

        /** Longest delay between two attempts. */
        private Duration maxDelay = Duration.ofMinutes(5);

        /**
         * How many sends of one record may fail before it is moved to the dead letters. Sends to a destination that
         * is not available now (broker unreachable, partition without leader, topic missing, not authorized) do not
         * count: they are retried without limit.
         */
        private int maxAttempts = 10;

        public int getMaxAttempts() {
            return this.maxAttempts;
        }

        public void setMaxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        public Duration getInitialDelay() {
            return this.initialDelay;
        }

        public void setInitialDelay(Duration initialDelay) {
            this.initialDelay = initialDelay;
        }

        public double getMultiplier() {
            return this.multiplier;
        }

        public void setMultiplier(double multiplier) {
            this.multiplier = multiplier;
        }

        public Duration getMaxDelay() {
            return this.maxDelay;
        }

        public void setMaxDelay(Duration maxDelay) {
            this.maxDelay = maxDelay;
        }
    }

    /** Events the relay gave up on. */
    public static class DeadLetters {

        /**
         * Whether the later events of a dead-lettered event's key wait until an operator requeues or discards the
         * dead letter, so that the key's order is never broken silently. Off: they are published.
         */
        private boolean parkKeys = true;

        public boolean isParkKeys() {
            return this.parkKeys;
        }

        public void setParkKeys(boolean parkKeys) {
            this.parkKeys = parkKeys;
        }
    }

    /** Wake-ups across instances through PostgreSQL LISTEN/NOTIFY. */
    public static class Notify {

        /**
         * Whether a commit that wrote outbox rows wakes up the relays of the other instances at once, through a
         * PostgreSQL notification, rather than at their next poll. Also sent by instances that run no relay. MariaDB
         * and MySQL have no notifications: there the other instances' relays find new rows at their poll interval.
         */
        private boolean enabled = true;

        /**
         * The minimum time between two wake-up notifications of this instance: the commits in between are announced
         * together, at its end.
         */
        private Duration interval = Duration.ofMillis(20);

        /**
         * JDBC URL of a direct connection to PostgreSQL for the wake-up listener, past a connection pooler in
         * transaction mode, through which notifications do not reach it. Unset, the listener uses a connection of the
         * application's DataSource.
         */
        private @Nullable String listenerUrl;

        /** User of the listener's connections to listener-url. Unset, the one spring.datasource.* determine. */
        private @Nullable String listenerUsername;

        /** Password of the listener's connections to listener-url. Unset, the one spring.datasource.* determine. */
        private @Nullable String listenerPassword;

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getInterval() {
            return this.interval;
        }

        public void setInterval(Duration interval) {
            this.interval = interval;
        }

        public @Nullable String getListenerUrl() {
            return this.listenerUrl;
        }

        public void setListenerUrl(@Nullable String listenerUrl) {
            this.listenerUrl = listenerUrl;
        }

        public @Nullable String getListenerUsername() {
            return this.listenerUsername;
        }

        public void setListenerUsername(@Nullable String listenerUsername) {
            this.listenerUsername = listenerUsername;
        }

        public @Nullable String getListenerPassword() {
            return this.listenerPassword;
        }

        public void setListenerPassword(@Nullable String listenerPassword) {
            this.listenerPassword = listenerPassword;
        }
    }

    /** Consumer-side de-duplication with the processed-event table. */
    public static class Consumer {

        /**
         * Whether consumer-side de-duplication is configured: the Deduplicator bean and the purge of processed ids.
         */
        private boolean enabled = true;

        /**
         * How long processed event ids are kept; a redelivery older than this is no longer recognized. Longer than
         * any redelivery you expect: the topic's retention, or your longest consumer outage.
         */
        private Duration retention = Duration.ofDays(7);

        /** How often ids older than the retention are deleted. */
        private Duration purgeInterval = Duration.ofHours(1);

        public boolean isEnabled() {
            return this.enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Duration getRetention() {
            return this.retention;
        }

        public void setRetention(Duration retention) {
            this.retention = retention;
        }

        public Duration getPurgeInterval() {
            return this.purgeInterval;
        }

        public void setPurgeInterval(Duration purgeInterval) {
            this.purgeInterval = purgeInterval;
        }
    }

    /** Micrometer metrics. */
    public static class Metrics {

        /**
         * The least time between two reads of the figures of the tables (waiting rows, lag, dead letters, parked
         * keys): gauges and health checks that ask within it share one read. A read that takes long, as on a table
         * with a large backlog, is reused for twenty times as long as it took, up to 30 s (or this interval, if
         * longer), so that these reads take a small share of one connection's time. Keep it well below the scrape
         * interval, so that a scrape reads the tables afresh whenever the last read was quick.
         */
        private Duration refreshInterval = Duration.ofSeconds(1);

        public Duration getRefreshInterval() {
            return this.refreshInterval;
        }

        public void setRefreshInterval(Duration refreshInterval) {
            this.refreshInterval = refreshInterval;
        }
    }

    /** The outbox health indicator. */
    public static class Health {

        /**
         * The age of the oldest row the relay could publish, or how long a topic's sends have failed because it is
         * not available, above which the outbox reports DOWN.
         */
        private Duration maxLag = Duration.ofMinutes(5);

        /**
         * How many relay cycles in a row that sent records and got none acknowledged, or that failed as a whole, make
         * the outbox DOWN; and how many later cycles with failed sends must record them, after one that could not,
         * before it is UP again.
         */
        private int failingCycles = 3;

        public Duration getMaxLag() {
            return this.maxLag;
        }

        public void setMaxLag(Duration maxLag) {
            this.maxLag = maxLag;
        }

        public int getFailingCycles() {
            return this.failingCycles;
        }

        public void setFailingCycles(int failingCycles) {
            this.failingCycles = failingCycles;
        }
    }

    /** A connection pooler between the application and PostgreSQL, such as PgBouncer. */
    public static class Pooler {

        /**
         * Whether to check at start-up whether the DataSource goes through a connection pooler in transaction or
         * statement mode (such as PgBouncer with pool_mode=transaction), and to stop the start when the PostgreSQL
         * JDBC driver would prepare statements on the server there, which such a pooler breaks.
         */
        private boolean check = true;

        /**
         * Whether the connection pooler keeps server-side prepared statements apart per client in transaction mode
         * (PgBouncer 1.21 or later with max_prepared_statements above 0): then the check lets a prepareThreshold
         * above 0 through.
         */
        private boolean keepsPreparedStatements = false;

        public boolean isCheck() {
            return this.check;
        }

        public void setCheck(boolean check) {
            this.check = check;
        }

        public boolean isKeepsPreparedStatements() {
            return this.keepsPreparedStatements;
        }

        public void setKeepsPreparedStatements(boolean keepsPreparedStatements) {
            this.keepsPreparedStatements = keepsPreparedStatements;
        }
    }
}
