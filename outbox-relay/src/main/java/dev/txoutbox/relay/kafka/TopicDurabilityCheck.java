package dev.txoutbox.relay.kafka;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns once per topic when a topic the relay writes to cannot keep the outbox's promise that nothing acknowledged is
 * lost: a replication factor below 2, {@code min.insync.replicas} below 2, or unclean leader election on. The relay
 * deletes a row once the broker acknowledged its record with {@code acks=all}; that acknowledgement is only as
 * durable as the topic's replicas make it.
 *
 * <p>A topic is checked on the first publication to it, in a daemon thread of the check's own, with an admin client
 * that shares the producer's connection settings: the relay's threads never wait for it. A check that fails (no
 * permission to describe the topic's configuration, say) is logged once at INFO and never affects publishing.
 */
public final class TopicDurabilityCheck implements OutboxRelayListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TopicDurabilityCheck.class);

    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(15);

    private final Duration timeout;

    private final Map<String, Object> adminConfig;

    private final Set<String> checkedTopics = ConcurrentHashMap.newKeySet();

    private final AtomicBoolean failureLogged = new AtomicBoolean();

    private final ExecutorService thread;

    private volatile @Nullable Admin admin;

    private volatile boolean closed;

    /**
     * Creates a check whose admin client connects as the producer does.
     *
     * @param producerConfig the producer's configuration: its bootstrap servers and security settings are used
     */
    public TopicDurabilityCheck(Map<String, ?> producerConfig) {
        this(producerConfig, DEFAULT_TIMEOUT);
    }

    TopicDurabilityCheck(Map<String, ?> producerConfig, Duration timeout) {
        this.timeout = timeout;
        Map<String, Object> config = new HashMap<>();
        producerConfig.forEach((name, value) -> {
            if (AdminClientConfig.configNames().contains(name)) {
                config.put(name, value);
            }
        });
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "outbox-relay-topic-check");
        this.adminConfig = config;
        this.thread = DaemonThreads.singleThreadExecutor("outbox-topic-durability-check");
    }

    /** A check that connects as the publisher's producer does. */
    public static TopicDurabilityCheck of(KafkaRecordPublisher publisher) {
        return new TopicDurabilityCheck(publisher.producerConfiguration());
    }

    /** Checks the record's topic, the first time a record of it was published; returns at once. */
    @Override
    public void published(OutboxRecord record, Instant acknowledgedAt) {
        String topic = record.topic();
        if (this.closed || !this.checkedTopics.add(topic)) {
            return;
        }
        try {
            this.thread.execute(() -> check(topic));
        } catch (RejectedExecutionException ex) {
            // Closing.
        }
    }

    private void check(String topic) {
        try {
            Admin client = admin();
            TopicDescription description = client.describeTopics(
                            List.of(topic), new DescribeTopicsOptions().timeoutMs((int) this.timeout.toMillis()))
                    .allTopicNames()
                    .get(this.timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(topic);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = client.describeConfigs(
                            List.of(resource), new DescribeConfigsOptions().timeoutMs((int) this.timeout.toMillis()))
                    .all()
                    .get(this.timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(resource);
            int replicationFactor = description.partitions().stream()
                    .map(TopicPartitionInfo::replicas)
                    .mapToInt(List::size)
                    .min()
                    .orElse(0);
            int minInSyncReplicas = Integer.parseInt(value(config, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, "1"));
            boolean uncleanLeaderElection =
                    Boolean.parseBoolean(value(config, TopicConfig.UNCLEAN_LEADER_ELECTION_ENABLE_CONFIG, "false"));
            List<String> problems = problems(topic, replicationFactor, minInSyncReplicas, uncleanLeaderElection);
            if (problems.isEmpty()) {
                log.debug(
                        "Topic '{}' keeps acknowledged records: replication factor {}, min.insync.replicas={}",
                        topic,
                        replicationFactor,
                        minInSyncReplicas);
                return;
            }
            log.warn(
                    "The outbox relay writes to topic '{}', which cannot keep the promise that nothing acknowledged is"
                            + " lost: {}. (A relay without this listener does not check.)",
                    topic,
                    String.join("; ", problems));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } catch (Exception ex) {
            if (this.closed) {
                return;
            }
            Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            if (this.failureLogged.compareAndSet(false, true)) {
                log.info(
                        "Could not check whether topic '{}' keeps acknowledged records (replication factor,"
                                + " min.insync.replicas, unclean leader election); publishing is not affected, and"
                                + " further failures of this check are logged at DEBUG: {}",
                        topic,
                        cause.toString());
            } else {
                log.debug("Could not check the durability settings of topic '{}'", topic, ex);
            }
        }
    }

    /**
     * What keeps a topic from holding on to acknowledged records, each with its risk and its fix; empty when nothing
     * does.
     */
    static List<String> problems(
            String topic, int replicationFactor, int minInSyncReplicas, boolean uncleanLeaderElection) {
        List<String> problems = new ArrayList<>();
        if (replicationFactor < 2) {
            problems.add(("replication factor %d: a broker that loses its disk loses the records it acknowledged;"
                            + " give the topic 3 replicas (kafka-reassign-partitions.sh, or create it again)")
                    .formatted(replicationFactor));
        }
        if (minInSyncReplicas < 2) {
            problems.add(("min.insync.replicas=%d: with acks=all a single replica may acknowledge a record and fail"
                            + " before any other copied it; set 2 (kafka-configs.sh --alter --entity-type topics"
                            + " --entity-name %s --add-config min.insync.replicas=2)")
                    .formatted(minInSyncReplicas, topic));
        }
        if (uncleanLeaderElection) {
            problems.add(("unclean.leader.election.enable=true: a replica that missed acknowledged records may become"
                            + " leader and drop them; set it to false (kafka-configs.sh --alter --entity-type topics"
                            + " --entity-name %s --add-config unclean.leader.election.enable=false)")
                    .formatted(topic));
        }
        return problems;
    }

    private static String value(Config config, String name, String fallback) {
        ConfigEntry entry = config.get(name);
        return entry != null && entry.value() != null ? entry.value() : fallback;
    }

    private Admin admin() {
        Admin current = this.admin;
        if (current == null) {
            current = Admin.create(this.adminConfig);
            this.admin = current;
            if (this.closed) {
                current.close(Duration.ZERO);
            }
        }
        return current;
    }

    /** Stops checking, without waiting for a check in progress. */
    @Override
    public void close() {
        this.closed = true;
        this.thread.shutdownNow();
        Admin current = this.admin;
        if (current != null) {
            current.close(Duration.ZERO);
        }
    }
}
