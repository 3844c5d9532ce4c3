package dev.txoutbox.benchmark;

import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** K: the broker's ceiling, a plain producer with the relay's producer settings sending the records from memory. */
final class KafkaCeiling {

    private final Report report;

    private final int rows;

    KafkaCeiling(Report report, int rows) {
        this.report = report;
        this.rows = rows;
    }

    Pace run() throws Exception {
        String topic = EmbeddedInfrastructure.newTopic("bench-kafka", Workload.PARTITIONS);
        Map<String, Object> config =
                KafkaRecordPublisher.producerProperties(Workload.brokerConfig(), RelaySettings.defaults());
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(this.rows);
        for (int i = 0; i < this.rows; i++) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, Workload.key(i), Workload.payload(i));
            record.headers()
                    .add(OutboxHeaders.EVENT_ID, UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
            record.headers().add(OutboxHeaders.EVENT_TYPE, "BenchmarkEvent".getBytes(StandardCharsets.UTF_8));
            records.add(record);
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
            producer.partitionsFor(topic);
            // A first pass, unmeasured, so that the ceiling is not held down by code still being compiled.
            sendAll(producer, records.subList(0, Math.min(records.size(), WarmUp.ROWS)));
            MachineCpu before = MachineCpu.read();
            double eps = sendAll(producer, records);
            MachineCpu after = MachineCpu.read();
            this.report.row("K: Kafka producer from memory (events/s)", eps);
            return new Pace(eps, this.report.cpuRow("K", "event", after.secondsSince(before), records.size()));
        }
    }

    /** Sends records and waits for all acknowledgements; returns records per second. */
    private static double sendAll(KafkaProducer<String, byte[]> producer, List<ProducerRecord<String, byte[]>> records)
            throws Exception {
        CountDownLatch acknowledged = new CountDownLatch(records.size());
        AtomicReference<Exception> failure = new AtomicReference<>();
        long start = System.nanoTime();
        for (ProducerRecord<String, byte[]> record : records) {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    failure.set(error);
                }
                acknowledged.countDown();
            });
        }
        acknowledged.await();
        double eps = Measures.perSecond(records.size(), System.nanoTime() - start);
        if (failure.get() != null) {
            throw failure.get();
        }
        return eps;
    }
}
