package dev.txoutbox.benchmark;

import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * P: what a plain producer with the relay's producer settings does at the rates L's writers reached, each record sent
 * from memory by paced threads as L's writers write theirs: send-to-acknowledgement latency, the reference for L's
 * write-to-acknowledgement latency. Its second rate is L500's, whose rows it names so.
 */
final class ProducerLatency {

    private final Report report;

    private final boolean full;

    ProducerLatency(Report report, boolean full) {
        this.report = report;
        this.full = full;
    }

    /** Measures at each rate in turn; returns the p50, p99 and p99.9 in milliseconds at each. */
    double[][] run(double... rates) throws Exception {
        String topic = EmbeddedInfrastructure.newTopic("bench-producer", Workload.PARTITIONS);
        settle(topic);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaRecordPublisher.producerProperties(Workload.brokerConfig(), RelaySettings.defaults()))) {
            producer.partitionsFor(topic);
            AtomicInteger sent = new AtomicInteger();
            ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();
            LatencyTrace trace = new LatencyTrace("send_to_acknowledgement_micros");
            AtomicReference<Exception> failure = new AtomicReference<>();
            Runnable send = () -> {
                int i = sent.getAndIncrement();
                ProducerRecord<String, byte[]> record =
                        new ProducerRecord<>(topic, Workload.key(i), Workload.payload(i));
                record.headers()
                        .add(
                                OutboxHeaders.EVENT_ID,
                                UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
                record.headers().add(OutboxHeaders.EVENT_TYPE, "BenchmarkEvent".getBytes(StandardCharsets.UTF_8));
                Instant sentAt = LatencyTrace.enabled() ? Instant.now() : Instant.EPOCH;
                long start = System.nanoTime();
                producer.send(record, (metadata, error) -> {
                    if (error != null) {
                        failure.set(error);
                    }
                    long micros = (System.nanoTime() - start) / 1_000;
                    latencies.add(micros);
                    trace.add(sentAt, micros);
                });
            };
            Pacing.run(send, rates[0], Duration.ofSeconds(this.full ? 10 : 5));
            producer.flush();
            Duration duration = Duration.ofSeconds(this.full ? 30 : 15);
            double[][] percentiles = new double[rates.length][];
            for (int r = 0; r < rates.length; r++) {
                latencies.clear();
                trace.clear();
                int before = sent.get();
                double seconds = Pacing.run(send, rates[r], duration);
                producer.flush();
                if (failure.get() != null) {
                    throw failure.get();
                }
                percentiles[r] = Measures.percentiles(latencies);
                String phase = r == 0 ? "P" : "P500";
                trace.write(phase);
                this.report.row(
                        phase + ": producer from memory, achieved rate (events/s)", (sent.get() - before) / seconds);
                this.report.row(phase + ": send-to-acknowledgement p50 (ms)", percentiles[r][0]);
                this.report.row(phase + ": send-to-acknowledgement p99 (ms)", percentiles[r][1]);
                this.report.row(phase + ": send-to-acknowledgement p99.9 (ms)", percentiles[r][2]);
            }
            return percentiles;
        }
    }

    /**
     * Writes one record to every partition of a new topic with a producer that is not idempotent. The embedded
     * broker may refuse the first requests to a new partition a moment after it shows a leader, and an idempotent
     * producer that met that once kept failing on out-of-order sequence numbers until its records expired; a plain
     * producer retries past it.
     */
    private static void settle(String topic) throws Exception {
        Map<String, Object> config = new HashMap<>(
                KafkaRecordPublisher.producerProperties(Workload.brokerConfig(), RelaySettings.defaults()));
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-producer-settle");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
            for (int partition = 0; partition < Workload.PARTITIONS; partition++) {
                producer.send(new ProducerRecord<>(topic, partition, "settle", new byte[0]))
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }
}
