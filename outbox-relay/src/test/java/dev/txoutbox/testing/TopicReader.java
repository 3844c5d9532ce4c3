package dev.txoutbox.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads every record of one topic from the beginning, as a consumer downstream of the outbox would. */
public final class TopicReader implements AutoCloseable {

    private final KafkaConsumer<String, byte[]> consumer;

    private final List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();

    private final List<TopicPartition> partitions;

    /** Reads a topic of the embedded broker. */
    public TopicReader(String topic) {
        this(EmbeddedInfrastructure.kafkaBootstrapServers(), topic);
    }

    /** Reads a topic of any broker. */
    public TopicReader(String bootstrapServers, String topic) {
        this.consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ConsumerConfig.GROUP_ID_CONFIG,
                        "reader-" + UUID.randomUUID(),
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        "false"),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        this.partitions = this.consumer.partitionsFor(topic).stream()
                .map(info -> new TopicPartition(topic, info.partition()))
                .toList();
        this.consumer.assign(this.partitions);
        this.consumer.seekToBeginning(this.partitions);
    }

    /** Waits until the topic held at least {@code count} records and returns all records read so far. */
    public List<ConsumerRecord<String, byte[]>> awaitRecords(int count, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> {
            this.consumer.poll(Duration.ofMillis(100)).forEach(this.records::add);
            return this.records.size() >= count;
        });
        return List.copyOf(this.records);
    }

    /** Waits until a record that matches arrived and returns the first such record. */
    public ConsumerRecord<String, byte[]> awaitRecord(
            Predicate<ConsumerRecord<String, byte[]>> matching, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> {
            this.consumer.poll(Duration.ofMillis(100)).forEach(this.records::add);
            return this.records.stream().anyMatch(matching);
        });
        return this.records.stream().filter(matching).findFirst().orElseThrow();
    }

    /** How many records the topic holds in all: the sum of its partitions' end offsets. */
    public long endOffsetTotal() {
        return this.consumer.endOffsets(this.partitions).values().stream()
                .mapToLong(Long::longValue)
                .sum();
    }

    @Override
    public void close() {
        this.consumer.close();
    }
}
