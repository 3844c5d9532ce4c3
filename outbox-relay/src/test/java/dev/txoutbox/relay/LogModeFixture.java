package dev.txoutbox.relay;

import static org.awaitility.Awaitility.await;

import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.LogMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.jspecify.annotations.Nullable;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What the log-mode tests start, stopped and dropped when a test ends: relays, publishers and other resources, and
 * the slots of the tables, so that no slot keeps WAL for the tests after.
 */
final class LogModeFixture implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final List<OutboxRelay> relays = new ArrayList<>();

    private final List<AutoCloseable> closeables = new ArrayList<>();

    private final List<String> slots = new ArrayList<>();

    /** A new table written without key locks, whose slot is dropped at the end. */
    OutboxStore store() {
        return track(LogMode.newStore());
    }

    /** Drops the table's slot at the end. */
    OutboxStore track(OutboxStore store) {
        this.slots.add(LogMode.log(store).slot());
        return store;
    }

    /** Starts a relay in log mode on the table. */
    OutboxRelay start(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners) {
        OutboxRelay relay = LogMode.relay(store, publisher, settings, listeners);
        this.relays.add(relay);
        relay.start();
        return relay;
    }

    /** Starts a relay in log mode on the table, and waits until it reads the log. */
    OutboxRelay startReading(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        OutboxRelay relay = start(store, publisher, settings, List.of());
        awaitRole(relay, OutboxRelay.LogRole.READING);
        return relay;
    }

    /** A publisher to a broker, with short reconnection back-off. */
    KafkaRecordPublisher kafka(String bootstrapServers, RelaySettings settings) {
        return closing(KafkaRecordPublisher.create(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrapServers,
                        ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
                        "200"),
                settings));
    }

    /** A publisher to the shared embedded broker. */
    KafkaRecordPublisher kafka(RelaySettings settings) {
        return kafka(EmbeddedInfrastructure.kafkaBootstrapServers(), settings);
    }

    <T extends AutoCloseable> T closing(T closeable) {
        this.closeables.add(closeable);
        return closeable;
    }

    static void awaitRole(OutboxRelay relay, OutboxRelay.LogRole role) {
        await().atMost(TIMEOUT).until(() -> relay.logRole() == role);
    }

    /** The pid of the walsender that streams the table's slot, or null when no reader reads it. */
    static @Nullable Integer walSender(OutboxStore store) {
        return JdbcClient.create(store.dataSource())
                .sql("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ?")
                .param(LogMode.log(store).slot())
                .query(Integer.class)
                .optional()
                .orElse(null);
    }

    @Override
    public void close() throws Exception {
        this.relays.forEach(OutboxRelay::stop);
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
        for (String slot : this.slots) {
            dropSlot(slot);
        }
    }

    /**
     * Drops a slot once no reader reads it any more, so that it keeps no WAL for the tests after; from the server's
     * own database, since the table's pool may be closed.
     */
    private static void dropSlot(String slot) {
        JdbcClient jdbc = JdbcClient.create(EmbeddedInfrastructure.postgres().getPostgresDatabase());
        await().atMost(TIMEOUT)
                .until(() -> jdbc.sql("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ? AND active")
                                .param(slot)
                                .query(Long.class)
                                .single()
                        == 0);
        jdbc.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")
                .param(slot)
                .query()
                .listOfRows();
    }
}
