package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.LogMode;
import dev.txoutbox.testing.TopicReader;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

class LogModeSmokeTests {

    @Test
    void publishesInsertsFromTheLog() {
        OutboxStore store = LogMode.newStore();
        String topic = EmbeddedInfrastructure.newTopic("log", 3);
        RelaySettings settings =
                RelaySettings.builder().pollInterval(Duration.ofSeconds(5)).build();
        KafkaRecordPublisher kafka = KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
        OutboxRelay relay = LogMode.relay(store, kafka, settings);
        relay.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> relay.logRole() == OutboxRelay.LogRole.READING);
            for (int i = 0; i < 200; i++) {
                store.insert(event(topic, "k" + (i % 10), "{\"n\":" + i + "}"));
            }
            try (TopicReader reader = new TopicReader(topic)) {
                assertThat(reader.awaitRecords(200, Duration.ofSeconds(30))).hasSize(200);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> store.count() == 0);
            // The slot moves past the published transactions and the relay's deletes, so that the server may drop
            // their WAL, although no transaction of the table follows them. A checkpoint flushes all WAL written so
            // far: without it, a record that no commit flushed (a page pruned by a read, say) may wait for the next
            // commit, and the server sends no WAL that it has not flushed.
            JdbcClient jdbc = JdbcClient.create(store.dataSource());
            String written = jdbc.sql("SELECT pg_current_wal_insert_lsn()::text")
                    .query(String.class)
                    .single();
            jdbc.sql("CHECKPOINT").update();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> jdbc.sql("SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots"
                                    + " WHERE slot_name = ?")
                            .params(written, ((ReplicationSlotLog) relay.commitLog()).slot())
                            .query(Boolean.class)
                            .single());
        } finally {
            relay.stop();
            kafka.close();
        }
    }
}
