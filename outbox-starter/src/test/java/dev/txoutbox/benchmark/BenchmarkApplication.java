package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/** The application of the writer and latency benchmarks: JPA, the starter with its defaults, the relay running. */
@SpringBootApplication
public class BenchmarkApplication {

    /** Write-to-acknowledgement latencies of the records the relay published, in microseconds. */
    static final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();

    static volatile boolean recordLatencies;

    /**
     * The first of the two instants of each recorded event that came, its commit's end or its acknowledgement: the
     * relay may acknowledge an event before its writer's thread has noted the end of the commit.
     */
    private static final ConcurrentHashMap<UUID, Stamp> firstStamps = new ConcurrentHashMap<>();

    /**
     * Commit-to-acknowledgement latencies, in microseconds, of the recorded events: what the relay adds after the
     * writer's commit, the counterpart of a plain producer's send-to-acknowledgement.
     */
    static final ConcurrentLinkedQueue<Long> afterCommit = new ConcurrentLinkedQueue<>();

    /** When the relay handed each recorded event's record to its producer (see {@link SendStamps}). */
    private static final ConcurrentHashMap<UUID, Instant> sendStamps = new ConcurrentHashMap<>();

    /** Of the recorded events that were sent once: from the end of the commit to the send, in microseconds. */
    static final ConcurrentLinkedQueue<Long> commitToSend = new ConcurrentLinkedQueue<>();

    /**
     * Of the recorded events that were sent once: from the send to the acknowledgement as the relay sees it, in
     * microseconds.
     */
    static final ConcurrentLinkedQueue<Long> sendToAcknowledgement = new ConcurrentLinkedQueue<>();

    /** Of those: events the relay sent before their writer's thread noted the end of the commit. */
    static final LongAdder sentBeforeCommitNoted = new LongAdder();

    /** Each event's commit-to-acknowledgement, when the run writes traces. */
    static final LatencyTrace afterCommitTrace = new LatencyTrace("commit_to_acknowledgement_micros");

    /** Relay cycles that published something, and the records they published. */
    static final LongAdder cycles = new LongAdder();

    /** Relay cycles that found nothing to publish. */
    static final LongAdder emptyCycles = new LongAdder();

    static final LongAdder published = new LongAdder();

    /**
     * Starts the application on a database of its own and a new topic, named by the property benchmark.topic, with
     * more properties (such as {@code outbox.relay.mode=log}).
     */
    static ConfigurableApplicationContext start(String... properties) {
        String topic = EmbeddedInfrastructure.newTopic("bench-app", Workload.PARTITIONS);
        return new SpringApplicationBuilder(BenchmarkApplication.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.main.banner-mode=off",
                        "spring.datasource.url=" + Workload.DATABASE.newDatabaseUrl(),
                        "spring.datasource.username=" + Workload.DATABASE.username(),
                        "spring.datasource.hikari.maximum-pool-size=10",
                        "spring.jpa.hibernate.ddl-auto=create",
                        "spring.jpa.open-in-view=false",
                        "spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers(),
                        "benchmark.topic=" + topic,
                        "logging.level.root=WARN",
                        "logging.level.org.apache.kafka=ERROR",
                        "logging.level.kafka=ERROR",
                        "outbox.relay.producer.interceptor.classes=" + SendStamps.class.getName())
                .properties(properties)
                .properties(Workload.applicationProperties())
                .run();
    }

    /** Notes when an event's transaction ended its commit, or was acknowledged; the second of the two counts. */
    static void stamp(UUID eventId, Instant at, boolean commit) {
        firstStamps.compute(eventId, (id, first) -> {
            if (first == null) {
                return new Stamp(at, commit);
            }
            Instant committed = commit ? at : first.at();
            Instant acknowledged = commit ? first.at() : at;
            long micros = Duration.between(committed, acknowledged).toNanos() / 1_000;
            afterCommit.add(micros);
            afterCommitTrace.add(committed, micros);
            Instant send = sendStamps.remove(id);
            if (send != null && send != Instant.MIN) {
                // A relay may send a row before its writer's thread has noted the end of the commit: no time before
                // the send then, as far as the clocks here tell.
                long beforeSend = Math.max(0, Duration.between(committed, send).toNanos() / 1_000);
                if (send.isBefore(committed)) {
                    sentBeforeCommitNoted.increment();
                }
                commitToSend.add(beforeSend);
                sendToAcknowledgement.add(Duration.between(send, acknowledged).toNanos() / 1_000);
            }
            return null;
        });
    }

    /**
     * Notes when the relay sent an event's record; the first send only, since a record sent again was acknowledged
     * for its last send and its split would not add up.
     */
    static void sent(UUID eventId, Instant at) {
        if (sendStamps.putIfAbsent(eventId, at) != null) {
            sendStamps.put(eventId, Instant.MIN);
        }
    }

    /** Forgets the events noted so far. */
    static void clearStamps() {
        firstStamps.clear();
        sendStamps.clear();
        commitToSend.clear();
        sendToAcknowledgement.clear();
        sentBeforeCommitNoted.reset();
        afterCommit.clear();
        afterCommitTrace.clear();
    }

    @Bean
    OutboxRelayListener benchmarkLatencies() {
        return new OutboxRelayListener() {
            @Override
            public void published(OutboxRecord record, Instant acknowledgedAt) {
                if (recordLatencies) {
                    latencies.add(
                            Duration.between(record.createdAt(), acknowledgedAt).toNanos() / 1_000);
                    stamp(record.eventId(), acknowledgedAt, false);
                }
            }

            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                if (result.published() > 0) {
                    cycles.increment();
                    published.add(result.published());
                } else {
                    emptyCycles.increment();
                }
            }
        };
    }

    private record Stamp(Instant at, boolean commit) {}
}
