package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.EventIds;
import dev.txoutbox.store.NewRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What every phase works with: the records (about 1 KiB of JSON, keys spread over {@value #KEYS} aggregates), the
 * backlogs of them in the outbox table, the publishers of the relays, and the clean-up between phases.
 */
final class Workload {

    static final int KEYS = 10_000;

    static final int PARTITIONS = 8;

    static final String DATA = "x".repeat(1000);

    /** The database the benchmark runs on: {@code -Dbenchmark.database=postgresql} (the default) or {@code mariadb}. */
    static final TestDatabase DATABASE = database(System.getProperty("benchmark.database", "postgresql"));

    /** The SQL for the key of row {@code i} in {@link #fill}, the same as {@link #key(int)}; MariaDB's below. */
    private static final String KEY_SQL =
            "'agg-' || (('x' || left(md5(i::text), 8))::bit(32)::int & 2147483647) % 10000";

    /**
     * A version 7 event id, as the writer makes them: a random UUID whose first 48 bits are the time in milliseconds
     * and whose version bits go from 4 (0100) to 7 (0111).
     */
    private static final String EVENT_ID_SQL = """
            encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                placing substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid""";

    private static final String MARIADB_KEY_SQL =
            "CONCAT('agg-', (CONV(LEFT(MD5(i), 8), 16, 10) & 2147483647) % 10000)";

    /** One digest per thread, rather than a look-up of the algorithm for each key that W and L take per transaction. */
    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    });

    private Workload() {}

    private static TestDatabase database(String name) {
        return switch (name) {
            case "postgresql" -> TestDatabase.POSTGRESQL;
            case "mariadb" -> TestDatabase.MARIADB;
            default ->
                throw new IllegalArgumentException(
                        "Unknown benchmark.database '" + name + "': use postgresql (the default) or mariadb.");
        };
    }

    /**
     * The key of the i-th record: spread over the keys as by chance, the same in Java and in {@link #KEY_SQL}. Keys
     * taken in turn instead ({@code i % KEYS}) never meet twice in 10,000 consecutive rows, so a batch would never
     * hold two records of one key, nor two relays' batches one key, unlike in any real stream of events.
     */
    static String key(int i) {
        byte[] md5 = MD5.get().digest(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
        int hash = ByteBuffer.wrap(md5).getInt() & Integer.MAX_VALUE;
        return "agg-" + (hash % KEYS);
    }

    /** The i-th record's payload, the same JSON as {@link #fill} writes. */
    static byte[] payload(int i) {
        return ("{\"seq\":" + i + ",\"data\":\"" + DATA + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    /** Fills the outbox table with the benchmark's rows in one statement, as a backlog. */
    static void fill(OutboxStore store, String topic, int count) {
        fill(store, topic, count, KEY_SQL);
    }

    /** Fills the outbox table with rows whose key is {@code keySql}, an expression of the row's number {@code i}. */
    static void fill(OutboxStore store, String topic, int count, String keySql) {
        DataSource dataSource = store.dataSource();
        if (DATABASE == TestDatabase.MARIADB) {
            // Random event ids (MariaDB 11.4 makes no time-ordered ones); the relay only passes them on.
            JdbcClient.create(dataSource)
                    .sql("""
                            INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload, headers)
                            SELECT UUID(), ?, %s, 'BenchmarkEvent', CONCAT('{"seq":', i, ',"data":"', ?, '"}'), '{}'
                            FROM (SELECT seq AS i FROM seq_0_to_%d) AS g
                            """.formatted(keySql.equals(KEY_SQL) ? MARIADB_KEY_SQL : keySql, count - 1))
                    .params(topic, DATA)
                    .update();
            JdbcClient.create(dataSource)
                    .sql("ANALYZE TABLE outbox_event")
                    .query()
                    .listOfRows();
            return;
        }
        JdbcClient.create(dataSource)
                .sql("""
                        INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload)
                        SELECT %s, ?, %s, 'BenchmarkEvent',
                               convert_to(format('{"seq":%%s,"data":"%%s"}', i, repeat('x', 1000)), 'UTF8')
                        FROM generate_series(0, ? - 1) AS i
                        """.formatted(EVENT_ID_SQL, keySql))
                .params(topic, count)
                .update();
        JdbcClient.create(dataSource).sql("VACUUM ANALYZE outbox_event").update();
    }

    /**
     * Writes the benchmark's {@code i}-th row as a writer does, in a transaction of its own: unlike {@link #fill}, it
     * neither vacuums nor analyzes the table, which would make every prepared statement on it plan anew.
     */
    static void write(OutboxStore store, String topic, int i) {
        store.insert(new NewRecord(EventIds.next(), topic, key(i), "BenchmarkEvent", payload(i), Map.of()));
    }

    /**
     * Fills the outbox table as writers commit: in transactions of {@code perTransaction} rows each, with the seq
     * numbers and keys of {@link #fill}, so that a relay in log mode finds them in the log as many commits.
     */
    static void fillInTransactions(OutboxStore store, String topic, int count, int perTransaction) {
        JdbcClient jdbc = JdbcClient.create(store.dataSource());
        for (int first = 0; first < count; first += perTransaction) {
            jdbc.sql("""
                            INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload)
                            SELECT %s, ?, %s, 'BenchmarkEvent',
                                   convert_to(format('{"seq":%%s,"data":"%%s"}', i, repeat('x', 1000)), 'UTF8')
                            FROM generate_series(?, ? - 1) AS i
                            """.formatted(EVENT_ID_SQL, KEY_SQL))
                    .params(topic, first, Math.min(count, first + perTransaction))
                    .update();
        }
    }

    /**
     * Drops the replication slots nobody reads, which the log-mode phases leave behind: each would keep the server's
     * write-ahead log from its position on.
     */
    static void dropIdleSlots() {
        JdbcClient.create(EmbeddedInfrastructure.postgres().getPostgresDatabase())
                .sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active")
                .query()
                .listOfRows();
    }

    /**
     * Fails when the server has invalidated a replication slot: a log-mode relay on it would poll the table while it
     * starts the log anew, and a log-mode phase would measure that instead of the relay reading the log.
     */
    static void requireNoLostSlot() {
        List<String> lost = JdbcClient.create(EmbeddedInfrastructure.postgres().getPostgresDatabase())
                .sql("SELECT slot_name FROM pg_replication_slots WHERE wal_status = 'lost'")
                .query(String.class)
                .list();
        if (!lost.isEmpty()) {
            throw new IllegalStateException("The server invalidated replication slot(s) " + lost
                    + " (wal_status 'lost'): the log-mode phase would not measure the relay reading the log. Raise"
                    + " max_slot_wal_keep_size on the benchmark's server.");
        }
    }

    /**
     * Empties a drained table at once, so that autovacuum's clean-up of its up to a million dead rows does not run
     * during a later phase, on the same cores.
     */
    static void discardDeadRows(OutboxStore store) {
        JdbcClient.create(store.dataSource()).sql("TRUNCATE " + store.table()).update();
    }

    /**
     * The producer's {@code linger.ms} that {@code -Dbenchmark.linger-ms} asks for, for the relays and the plain
     * producers alike; empty for the relay's default.
     */
    private static final String LINGER_MS = System.getProperty("benchmark.linger-ms", "");

    /**
     * The producer configuration that points at the embedded broker, with the {@code linger.ms} asked for; the relay's
     * settings add the rest.
     */
    static Map<String, Object> brokerConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers());
        if (!LINGER_MS.isEmpty()) {
            config.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        }
        return config;
    }

    /**
     * Properties of the benchmark's application, which W and L run: the same {@code linger.ms}, then those that
     * {@code -Dbenchmark.app-properties} lists, separated by semicolons (such as
     * {@code outbox.relay.concurrency=4;outbox.relay.poll-interval=1s}), to see what a setting does to W and L.
     */
    static String[] applicationProperties() {
        List<String> properties = new ArrayList<>();
        if (!LINGER_MS.isEmpty()) {
            properties.add("outbox.relay.producer.linger.ms=" + LINGER_MS);
        }
        String more = System.getProperty("benchmark.app-properties", "");
        for (String property : more.split(";")) {
            if (property.isBlank()) {
                continue;
            }
            if (!property.contains("=")) {
                throw new IllegalArgumentException("-Dbenchmark.app-properties=" + more + ": '" + property
                        + "' has no value; list name=value pairs separated by semicolons, such as"
                        + " outbox.relay.concurrency=4;outbox.relay.poll-interval=1s");
            }
            properties.add(property.strip());
        }
        return properties.toArray(String[]::new);
    }

    /** A publisher to the embedded broker, as a relay of the benchmark uses. */
    static KafkaRecordPublisher newPublisher(RelaySettings settings) {
        return KafkaRecordPublisher.create(brokerConfig(), settings);
    }

    /** Waits until the relays have published every row of the table. */
    static void awaitDrained(OutboxStore store) throws InterruptedException {
        while (store.count() > 0) {
            Thread.sleep(20);
        }
    }

    /** Counts the rows that relays' committed cycles took care of. */
    static OutboxRelayListener progress(LongAdder done) {
        return new OutboxRelayListener() {
            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                done.add(result.published() + result.deadLettered());
            }
        };
    }
}
