package dev.txoutbox.benchmark;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxHeaders;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.support.TransactionTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * Measures the relay against what this machine can do at most, in one run, on embedded PostgreSQL and Kafka, with
 * the same records throughout (about 1 KiB of JSON, keys spread over 10,000 aggregates, acks=all, idempotence):
 *
 * <ul>
 *   <li>K: a plain Kafka producer sending the records from memory, the broker's ceiling;
 *   <li>D: a bare JDBC loop that claims ids with SKIP LOCKED and deletes, sending nothing, the database's ceiling;
 *       and the same loop reading whole rows, as a relay must;
 *   <li>R: the relay draining a backlog, with its rate at the start and at the end of the drain;
 *   <li>W: business transactions per second and their p99, a JPA insert with {@code @OutboxEvent} against the same
 *       insert without it, with the relay running, and once more with the relay stopped, for the writer's own cost;
 *   <li>L: write-to-acknowledgement latency at half of R's rate, with the default settings; and, as L', at three
 *       quarters of the rate the writers reached, when that fell short of half of R;
 *   <li>S: R with 1, 2 and 4 relays on one table, checking per-key order on the consumed records;
 *   <li>H, only when asked for with {@code -Dbenchmark.phase=H}: one relay draining rows that all have one key.
 * </ul>
 *
 * K, D, R, S and W also report the whole machine's CPU time per event, row or transaction (see {@link
 * MachineCpu}), and R, S, W and L how many of the cores were busy; from K's and D's follow the most events the cores
 * can carry and the least writer overhead they allow.
 *
 * <p>Before any of them, the relay drains backlogs until JIT compilation takes at most 5 % of one, or ten of them, so
 * that the ceilings and the relay run compiled code alike.
 *
 * <p>Run it with {@code mvn -q -pl outbox-starter -am -Pbenchmark test-compile} (quick: 100,000 rows), or add
 * {@code -Dbenchmark.mode=full} (1,000,000 rows). It prints a table and a RESULT line, and writes the figures as
 * JSON to {@code target/benchmark/}.
 */
public final class OutboxBenchmark {

    private static final int KEYS = 10_000;

    private static final int PARTITIONS = 8;

    /** Rows of each backlog the relay drains before R is measured. */
    private static final int WARM_UP_ROWS = 50_000;

    /** The warm-up ends once JIT compilation takes at most this share of a backlog's time... */
    private static final double MAX_JIT_SHARE = 0.05;

    /** ...or after this many backlogs. */
    private static final int MAX_WARM_UP_ROUNDS = 10;

    private static final String DATA = "x".repeat(1000);

    /** Rows of H's backlog, all of one key. */
    private static final int HOT_KEY_ROWS = 5_000;

    /** Threads that write L's events. */
    private static final int LATENCY_WRITERS = 4;

    /** The SQL for the key of row {@code i} in {@link #fill}, the same as {@link #key(int)}. */
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

    /** One digest per thread, rather than a look-up of the algorithm for each key that W and L take per transaction. */
    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    });

    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    private final String mode;

    private final int rows;

    private final Map<String, Object> figures = new LinkedHashMap<>();

    private final List<String> table = new ArrayList<>();

    private OutboxBenchmark(String mode) {
        this.mode = mode;
        this.rows = mode.equals("full") ? 1_000_000 : 100_000;
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "quick";
        if (!mode.equals("quick") && !mode.equals("full")) {
            throw new IllegalArgumentException("Unknown benchmark mode '" + mode + "': use quick or full.");
        }
        int status = 0;
        try {
            new OutboxBenchmark(mode).run();
        } catch (Exception ex) {
            ex.printStackTrace();
            status = 1;
        }
        EmbeddedInfrastructure.stop();
        // The embedded servers' threads would keep the JVM alive.
        System.exit(status);
    }

    private void run() throws Exception {
        System.out.printf(
                "Outbox benchmark, %s mode: %,d rows, %,d keys, 1 KiB JSON payloads, acks=all, idempotent producer,"
                        + " %d cores%n",
                this.mode, this.rows, KEYS, Runtime.getRuntime().availableProcessors());
        EmbeddedInfrastructure.postgres();
        EmbeddedInfrastructure.kafka();

        // Compiled code first, so that the ceilings and the relay are measured alike.
        warmUp();
        String phase = System.getProperty("benchmark.phase", "");
        if (!phase.isEmpty()) {
            runPhase(phase);
            return;
        }
        Pace k = kafkaCeiling();
        Pace[] d = databaseCeiling();
        Drain s1 = relayDrain(1);
        Drain s2 = relayDrain(2);
        Drain s4 = relayDrain(4);
        Writers w = writers();
        double[] l = latency(s1.eventsPerSecond() / 2);

        double ceiling = Math.min(k.perSecond(), d[0].perSecond());
        cpuBounds(k, d[1], s1, w);
        int violations = s1.orderViolations() + s2.orderViolations() + s4.orderViolations();
        this.figures.put("relay_eps", round(s1.eventsPerSecond()));
        this.figures.put("relay_vs_ceiling", round(s1.eventsPerSecond() / ceiling));
        this.figures.put("writer_overhead", round(1 - w.withEvent() / w.withoutEvent()));
        this.figures.put("p99_ms", round(l[1]));
        this.figures.put("scale4", round(s4.eventsPerSecond() / s1.eventsPerSecond()));
        this.figures.put("order_violations", violations);
        this.figures.put("end_vs_start", round(s1.endRate() / s1.startRate()));

        System.out.println();
        System.out.println("| measure | figure |");
        System.out.println("|---|---|");
        this.table.forEach(System.out::println);
        Path out = Path.of("target", "benchmark", "result-" + this.mode + ".json");
        Files.createDirectories(out.getParent());
        Files.writeString(
                out,
                JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(this.figures));
        System.out.println();
        System.out.println("Figures as JSON: " + out.toAbsolutePath());
        System.out.println(
                "Reproduce: mvn -q -pl outbox-starter -am -Pbenchmark test-compile -Dbenchmark.mode=" + this.mode);
        System.out.printf(
                Locale.ROOT,
                "RESULT relay_eps=%.0f relay_vs_ceiling=%.2f writer_overhead=%.3f p99_ms=%.1f scale4=%.2f"
                        + " order_violations=%d%n",
                s1.eventsPerSecond(),
                s1.eventsPerSecond() / ceiling,
                1 - w.withEvent() / w.withoutEvent(),
                l[1],
                s4.eventsPerSecond() / s1.eventsPerSecond(),
                violations);
    }

    /**
     * What the CPU time measured in K and D tells about R and W: every event the relay publishes costs the machine at
     * least what K spent on one (the producer and the broker) plus what D spent on one whole row (claiming, reading
     * and deleting it). Each part is the cheaper form of what the relay does: K's producer fills its batches without
     * waiting for the database, and D's claim reads no rows beyond those it takes. So the cores can carry no more
     * events than their number divided by that sum; and a business transaction that writes an event costs at least
     * the plain one's CPU time plus that sum, even if writing the outbox row itself cost nothing, which sets the
     * least writer overhead that these cores allow while writers keep them busy.
     */
    private void cpuBounds(Pace kafka, Pace wholeRows, Drain relay, Writers writers) {
        double perEvent = kafka.cpuMicros() + wholeRows.cpuMicros();
        if (Double.isNaN(perEvent)) {
            return;
        }
        double bound = Runtime.getRuntime().availableProcessors() * 1e6 / perEvent;
        row("R: the most the cores allow at K's plus whole-row D's CPU time per event (events/s)", bound);
        this.figures.put("cpu_bound_vs_kafka", round(bound / kafka.perSecond()));
        this.figures.put("relay_vs_cpu_bound", round(relay.eventsPerSecond() / bound));
        double plain = writers.withoutEventCpuMicros();
        if (!Double.isNaN(plain)) {
            double floor = perEvent / (plain + perEvent);
            row("W: least writer overhead the cores allow, K's plus whole-row D's CPU time per event (%)", 100 * floor);
            this.figures.put("writer_overhead_cpu_floor", round(floor));
        }
    }

    /** One phase alone, after the warm-up, to see the effect of a change on it quickly: a table, no RESULT line. */
    private void runPhase(String phase) throws Exception {
        switch (phase) {
            case "K" -> kafkaCeiling();
            case "D" -> databaseCeiling();
            case "R" -> relayDrain(1);
            case "S" -> {
                relayDrain(1);
                relayDrain(2);
                relayDrain(4);
            }
            case "W" -> writers();
            case "L" -> latency(relayDrain(1).eventsPerSecond() / 2);
            case "H" -> hotKeyDrain();
            default ->
                throw new IllegalArgumentException("Unknown benchmark phase '" + phase
                        + "': use K, D, R, S, W, L or H, or leave it out for all but H.");
        }
        System.out.println();
        this.table.forEach(System.out::println);
    }

    /** K: the broker's ceiling, a plain producer with the relay's producer settings sending from memory. */
    private Pace kafkaCeiling() throws Exception {
        String topic = EmbeddedInfrastructure.newTopic("bench-kafka", PARTITIONS);
        Map<String, Object> config = KafkaRecordPublisher.producerProperties(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                RelaySettings.defaults());
        List<ProducerRecord<String, byte[]>> records = new ArrayList<>(this.rows);
        for (int i = 0; i < this.rows; i++) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key(i), payload(i));
            record.headers()
                    .add(OutboxHeaders.EVENT_ID, UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
            record.headers().add(OutboxHeaders.EVENT_TYPE, "BenchmarkEvent".getBytes(StandardCharsets.UTF_8));
            records.add(record);
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config)) {
            producer.partitionsFor(topic);
            // A first pass, unmeasured, so that the ceiling is not held down by code still being compiled.
            sendAll(producer, records.subList(0, Math.min(records.size(), WARM_UP_ROWS)));
            MachineCpu before = MachineCpu.read();
            double eps = sendAll(producer, records);
            MachineCpu after = MachineCpu.read();
            row("K: Kafka producer from memory (events/s)", eps);
            return new Pace(eps, cpuRow("K", "event", after.secondsSince(before), records.size()));
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
        double eps = perSecond(records.size(), System.nanoTime() - start);
        if (failure.get() != null) {
            throw failure.get();
        }
        return eps;
    }

    /**
     * D: the database's ceiling, claiming and deleting batches the relay's size with SKIP LOCKED; and the same with
     * the claim reading whole rows. Returns the two, in this order.
     */
    private Pace[] databaseCeiling() throws Exception {
        Pace ids = claimAndDelete("D", "id", rs -> {});
        // Not the ceiling of the RESULT line, which is the bare claim of ids above: what the database alone hands
        // over when the claim also reads the columns that a relay must read, the payload above all. It tells how
        // much of the relay's time goes to reading its rows rather than to publishing them.
        Pace wholeRows = claimAndDelete(
                "D, whole rows", "id, event_id, topic, record_key, event_type, payload, headers, created_at", rs -> {
                    rs.getObject(2, UUID.class);
                    rs.getString(3);
                    rs.getString(4);
                    rs.getString(5);
                    rs.getBytes(6);
                    rs.getString(7);
                    rs.getTimestamp(8);
                });
        return new Pace[] {ids, wholeRows};
    }

    /** A bare JDBC loop that claims batches of a backlog with SKIP LOCKED, reads them, and deletes them. */
    private Pace claimAndDelete(String name, String columns, RowCallbackHandler read) throws Exception {
        OutboxStore store = OutboxTestTables.newStore();
        fill(store, "bench-db", this.rows);
        int batch = RelaySettings.DEFAULT_BATCH_SIZE;
        MachineCpu before = MachineCpu.read();
        long start = System.nanoTime();
        int deleted = 0;
        try (Connection connection = store.dataSource().getConnection();
                PreparedStatement claim = connection.prepareStatement(
                        "SELECT " + columns + " FROM outbox_event ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED");
                PreparedStatement delete = connection.prepareStatement("DELETE FROM outbox_event WHERE id = ANY(?)")) {
            connection.setAutoCommit(false);
            while (true) {
                claim.setInt(1, batch);
                List<Long> ids = new ArrayList<>(batch);
                try (ResultSet rs = claim.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        read.processRow(rs);
                    }
                }
                if (ids.isEmpty()) {
                    connection.commit();
                    break;
                }
                delete.setArray(1, connection.createArrayOf("bigint", ids.toArray()));
                deleted += delete.executeUpdate();
                connection.commit();
            }
        }
        double rowsPerSecond = perSecond(deleted, System.nanoTime() - start);
        double cpuSeconds = MachineCpu.read().secondsSince(before);
        discardDeadRows(store);
        row(
                name.equals("D")
                        ? "D: JDBC claim and delete, nothing sent (rows/s)"
                        : "D: the same, reading the rows' columns (rows/s)",
                rowsPerSecond);
        return new Pace(rowsPerSecond, cpuRow(name, "row", cpuSeconds, deleted));
    }

    /**
     * Drains backlogs, unmeasured, so that the JIT compiler has compiled the relay's, the producer's and the broker's
     * code: with one backlog of 30,000 rows, the compiler still took a third of the two cores in R's first seconds.
     * It never quite settles in this JVM, which hosts the broker too: ten backlogs leave it at about a seventh of the
     * two cores during R, and more of them did not change R.
     */
    private void warmUp() throws Exception {
        OutboxStore store = OutboxTestTables.newStore();
        String topic = EmbeddedInfrastructure.newTopic("bench-warm-up", PARTITIONS);
        KafkaRecordPublisher publisher = newPublisher(RelaySettings.defaults());
        LongAdder done = new LongAdder();
        OutboxRelay relay = new OutboxRelay(store, publisher, RelaySettings.defaults(), List.of(progress(done)));
        relay.start();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        int rounds = 0;
        double jitShare;
        do {
            long jitBefore = jit.getTotalCompilationTime();
            long start = System.nanoTime();
            fill(store, topic, WARM_UP_ROWS);
            rounds++;
            while (done.sum() < (long) rounds * WARM_UP_ROWS) {
                Thread.sleep(5);
            }
            jitShare = (jit.getTotalCompilationTime() - jitBefore) / ((System.nanoTime() - start) / 1e6);
        } while (jitShare > MAX_JIT_SHARE && rounds < MAX_WARM_UP_ROUNDS);
        relay.stop();
        publisher.close();
        discardDeadRows(store);
        System.out.printf(
                Locale.ROOT,
                "Warm-up: %d backlogs of %,d rows; JIT compilation during the last: %.0f %% of its time%n",
                rounds,
                WARM_UP_ROWS,
                100 * jitShare);
    }

    /**
     * Empties a drained table at once, so that autovacuum's clean-up of its up to a million dead rows does not run
     * during a later phase, on the same two cores.
     */
    private static void discardDeadRows(OutboxStore store) {
        JdbcClient.create(store.dataSource()).sql("TRUNCATE " + store.table()).update();
    }

    /** A publisher to the embedded broker, as a relay of the benchmark uses. */
    private static KafkaRecordPublisher newPublisher(RelaySettings settings) {
        return KafkaRecordPublisher.create(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedInfrastructure.kafkaBootstrapServers()),
                settings);
    }

    /** Waits until the relays have published every row of the table. */
    private static void awaitDrained(OutboxStore store) throws InterruptedException {
        while (store.count() > 0) {
            Thread.sleep(20);
        }
    }

    /** Counts the rows that relays' committed cycles took care of. */
    private static OutboxRelayListener progress(LongAdder done) {
        return new OutboxRelayListener() {
            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                done.add(result.published() + result.deadLettered());
            }
        };
    }

    /** R and S: relays draining a backlog, and the order of what they published. */
    private Drain relayDrain(int relays) throws Exception {
        OutboxStore store = OutboxTestTables.newStore();
        String topic = EmbeddedInfrastructure.newTopic("bench-relay-" + relays, PARTITIONS);
        fill(store, topic, this.rows);
        RelaySettings settings = RelaySettings.defaults();
        List<OutboxRelay> running = new ArrayList<>();
        List<KafkaRecordPublisher> publishers = new ArrayList<>();
        // The drain's progress comes from the relays' own reports of their committed cycles. Counting the rows
        // instead would compete with the relays for the same cores: a count of a 1,000,000-row table is a parallel
        // scan of a gigabyte.
        LongAdder done = new LongAdder();
        // Claimed rows, and those of them left alone because an earlier row of their key was in another batch.
        LongAdder locked = new LongAdder();
        LongAdder heldBack = new LongAdder();
        OutboxRelayListener claims = new OutboxRelayListener() {
            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                locked.add(result.locked());
                heldBack.add(result.heldBack());
            }
        };
        MachineCpu before = MachineCpu.read();
        long start = System.nanoTime();
        for (int i = 0; i < relays; i++) {
            KafkaRecordPublisher publisher = newPublisher(settings);
            publishers.add(publisher);
            OutboxRelay relay = new OutboxRelay(store, publisher, settings, List.of(progress(done), claims));
            running.add(relay);
            relay.start();
        }
        // The drain's pace, sampled: when the first and the last tenth of the backlog went out.
        long tenth = this.rows / 10;
        long firstTenthAt = 0;
        long lastTenthFrom = 0;
        long waiting;
        do {
            Thread.sleep(5);
            waiting = this.rows - done.sum();
            long now = System.nanoTime() - start;
            if (firstTenthAt == 0 && waiting <= this.rows - tenth) {
                firstTenthAt = now;
            }
            if (lastTenthFrom == 0 && waiting <= tenth) {
                lastTenthFrom = now;
            }
        } while (waiting > 0);
        long elapsed = System.nanoTime() - start;
        MachineCpu after = MachineCpu.read();
        running.forEach(OutboxRelay::stop);
        publishers.forEach(KafkaRecordPublisher::close);
        if (store.count() != 0) {
            throw new IllegalStateException("The relays reported the backlog done, but " + store.count()
                    + " rows are left in the outbox table");
        }
        discardDeadRows(store);
        double eps = perSecond(this.rows, elapsed);
        double startRate = perSecond(tenth, firstTenthAt);
        double endRate = perSecond(tenth, Math.max(1, elapsed - lastTenthFrom));
        int violations = orderViolations(topic);
        String name = relays == 1 ? "R / S1: relay draining the backlog" : "S" + relays + ": " + relays + " relays";
        row(name + " (events/s)", eps);
        if (relays == 1) {
            row("R: rate over the first tenth of the drain (events/s)", startRate);
            row("R: rate over the last tenth of the drain (events/s)", endRate);
        }
        row("S" + relays + ": per-key order violations", violations);
        row("S" + relays + ": claimed rows held back for key order (%)", 100.0 * heldBack.sum() / locked.sum());
        String phase = relays == 1 ? "R" : "S" + relays;
        double cpuMicros = cpuRow(phase, "event", after.secondsSince(before), this.rows);
        cpuRow(phase + ": cores busy, whole machine", after.coresBusySince(before));
        return new Drain(eps, startRate, endRate, violations, cpuMicros);
    }

    /**
     * H, a phase of its own only: one relay draining a backlog whose rows all have one key. A key's records go out
     * one at a time, each after the broker acknowledged the one before, so this is what one key can carry.
     */
    private void hotKeyDrain() throws Exception {
        int count = HOT_KEY_ROWS;
        OutboxStore store = OutboxTestTables.newStore();
        String topic = EmbeddedInfrastructure.newTopic("bench-hot-key", PARTITIONS);
        fill(store, topic, count, "'hot'");
        KafkaRecordPublisher publisher = newPublisher(RelaySettings.defaults());
        LongAdder done = new LongAdder();
        OutboxRelay relay = new OutboxRelay(store, publisher, RelaySettings.defaults(), List.of(progress(done)));
        long start = System.nanoTime();
        relay.start();
        while (done.sum() < count) {
            Thread.sleep(5);
        }
        long elapsed = System.nanoTime() - start;
        relay.stop();
        publisher.close();
        discardDeadRows(store);
        row(
                String.format(Locale.ROOT, "H: relay draining %,d rows of one key (events/s)", count),
                perSecond(count, elapsed));
    }

    /** W: business transactions per second and their p99, with and without the annotation. */
    private Writers writers() throws Exception {
        try (ConfigurableApplicationContext context = application()) {
            BenchmarkService service = context.getBean(BenchmarkService.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            List<OutboxRelay> relays =
                    List.copyOf(context.getBeansOfType(OutboxRelay.class).values());
            boolean full = this.mode.equals("full");
            int threads = 4;
            // Each variant warms up first: with 3 s each, the first one measured ran slower than the others in a
            // full run, the plain insert below the one with a second row.
            Duration warmUp = Duration.ofSeconds(full ? 10 : 3);
            runTransactions(threads, warmUp, () -> service.placeWithoutEvent("warm-up", DATA));
            runTransactions(threads, warmUp, () -> service.placeTwiceWithoutEvent("warm-up", DATA));
            runTransactions(threads, warmUp, () -> service.placeWithEvent("warm-up", DATA));
            // The variants take turns, round after round, so that what drifts while W runs (the JIT compiler is
            // still at work, the business table grows) weighs on all of them alike. Measured one after the other,
            // the first variant ran up to 40 % slower than the second, though it does less.
            int rounds = full ? 5 : 2;
            Duration slice = Duration.ofSeconds(full ? 6 : 5);
            Transactions without = new Transactions();
            Transactions twoRows = new Transactions();
            Transactions with = new Transactions();
            Transactions relayStopped = new Transactions();
            RelayActivity relay = RelayActivity.NONE;
            for (int round = 0; round < rounds; round++) {
                without.run(threads, slice, () -> service.placeWithoutEvent("bench", DATA));
                // What a second row of the same size costs any transaction, outbox or not.
                twoRows.run(threads, slice, () -> service.placeTwiceWithoutEvent("bench", DATA));
                RelayActivity before = RelayActivity.now();
                with.run(threads, slice, () -> service.placeWithEvent("bench", DATA));
                relay = relay.plus(RelayActivity.now().since(before));
                // The writer's own cost, apart from the relay's, which shares the machine's cores while W runs.
                relays.forEach(OutboxRelay::stop);
                relayStopped.run(threads, slice, () -> service.placeWithEvent("bench", DATA));
                relays.forEach(OutboxRelay::start);
                // What piled up meanwhile is drained, and its dead rows dropped, before the next round.
                awaitDrained(store);
                discardDeadRows(store);
            }
            row("W: rounds, each variant " + slice.toSeconds() + " s in each", rounds);
            row("W: JPA insert without @OutboxEvent (tx/s)", without.perSecond());
            row("W: JPA insert without @OutboxEvent, p99 (ms)", without.p99());
            row("W: two JPA inserts without @OutboxEvent (tx/s)", twoRows.perSecond());
            row("W: JPA insert with @OutboxEvent (tx/s)", with.perSecond());
            row("W: JPA insert with @OutboxEvent, p99 (ms)", with.p99());
            row("W: relay batches meanwhile, mean size (events)", relay.meanBatch());
            row(
                    "W: relay cycles meanwhile that found nothing (per s)",
                    relay.empty() / (rounds * (double) slice.toSeconds()));
            row("W: JPA insert with @OutboxEvent, relay stopped (tx/s)", relayStopped.perSecond());
            row("W: JPA insert with @OutboxEvent, relay stopped, p99 (ms)", relayStopped.p99());
            cpuRow("W without @OutboxEvent", "transaction", without.cpuSeconds(), without.count());
            cpuRow("W without @OutboxEvent: cores busy, whole machine", without.coresBusy());
            cpuRow("W two inserts without @OutboxEvent", "transaction", twoRows.cpuSeconds(), twoRows.count());
            cpuRow("W with @OutboxEvent", "transaction", with.cpuSeconds(), with.count());
            cpuRow("W with @OutboxEvent: cores busy, whole machine", with.coresBusy());
            cpuRow(
                    "W with @OutboxEvent, relay stopped",
                    "transaction",
                    relayStopped.cpuSeconds(),
                    relayStopped.count());
            this.figures.put(
                    "writer_overhead_relay_stopped", round(1 - relayStopped.perSecond() / without.perSecond()));
            this.figures.put("second_row_overhead", round(1 - twoRows.perSecond() / without.perSecond()));
            return new Writers(with.perSecond(), without.perSecond(), without.cpuSeconds() * 1e6 / without.count());
        }
    }

    /**
     * L: write-to-acknowledgement latency at half of R's rate, with the default settings; and, when the writers fell
     * short of that rate, once more at three quarters of the rate they reached, where the machine has room to spare.
     * Returns the first's p50, p99 and p99.9.
     */
    private double[] latency(double eventsPerSecond) throws Exception {
        try (ConfigurableApplicationContext context = application()) {
            Outbox outbox = context.getBean(Outbox.class);
            TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
            OutboxStore store = context.getBean(OutboxStore.class);
            String topic = context.getEnvironment().getRequiredProperty("benchmark.topic");
            boolean full = this.mode.equals("full");
            AtomicInteger sent = new AtomicInteger();
            Runnable write = () -> {
                int i = sent.getAndIncrement();
                transactions.executeWithoutResult(status -> outbox.write(topic, key(i), new String(payload(i))));
            };
            // The writers' code path is not the one W ran: unwarmed, four writers reached a fifth of the rate over
            // the first fifteen seconds.
            writeAtRate(write, eventsPerSecond, Duration.ofSeconds(full ? 15 : 10));
            awaitDrained(store);
            Duration duration = Duration.ofSeconds(full ? 30 : 15);
            Latencies atHalfOfR = measureLatency(write, sent, store, eventsPerSecond, duration);
            row("L: target rate, half of R (events/s)", eventsPerSecond);
            report("L", atHalfOfR);
            if (atHalfOfR.achieved() < 0.95 * eventsPerSecond) {
                // On a machine where the writers share the cores with the relay, the broker and PostgreSQL, they
                // may not reach half of R at all, and then the figures above are those of a machine without a core
                // to spare, queueing included.
                double rate = 0.75 * atHalfOfR.achieved();
                Latencies withRoom = measureLatency(write, sent, store, rate, duration);
                row("L': target rate, three quarters of what L's writers reached (events/s)", rate);
                report("L'", withRoom);
                this.figures.put("p99_ms_with_room", round(withRoom.percentiles()[1]));
            }
            return atHalfOfR.percentiles();
        }
    }

    /** Writes at a rate for a while, with the relay running, and measures each event's write to acknowledgement. */
    private static Latencies measureLatency(
            Runnable write, AtomicInteger sent, OutboxStore store, double eventsPerSecond, Duration duration)
            throws Exception {
        BenchmarkApplication.latencies.clear();
        BenchmarkApplication.recordLatencies = true;
        RelayActivity before = RelayActivity.now();
        MachineCpu cpuBefore = MachineCpu.read();
        int sentBefore = sent.get();
        double seconds = writeAtRate(write, eventsPerSecond, duration);
        MachineCpu cpuAfter = MachineCpu.read();
        int written = sent.get() - sentBefore;
        awaitDrained(store);
        BenchmarkApplication.recordLatencies = false;
        RelayActivity relay = RelayActivity.now().since(before);
        long[] micros = BenchmarkApplication.latencies.stream()
                .mapToLong(Long::longValue)
                .sorted()
                .toArray();
        return new Latencies(
                written / seconds,
                new double[] {percentile(micros, 0.50), percentile(micros, 0.99), percentile(micros, 0.999)},
                relay.meanBatch(),
                relay.empty() / seconds,
                cpuAfter.coresBusySince(cpuBefore));
    }

    private void report(String phase, Latencies latencies) {
        row(phase + ": achieved rate (events/s)", latencies.achieved());
        row(phase + ": write-to-acknowledgement p50 (ms)", latencies.percentiles()[0]);
        row(phase + ": write-to-acknowledgement p99 (ms)", latencies.percentiles()[1]);
        row(phase + ": write-to-acknowledgement p99.9 (ms)", latencies.percentiles()[2]);
        row(phase + ": relay batches meanwhile, mean size (events)", latencies.meanBatch());
        row(phase + ": relay cycles meanwhile that found nothing (per s)", latencies.emptyCyclesPerSecond());
        cpuRow(phase + ": cores busy, whole machine", latencies.coresBusy());
    }

    /** What one stretch of L measured. */
    private record Latencies(
            double achieved, double[] percentiles, double meanBatch, double emptyCyclesPerSecond, double coresBusy) {}

    /**
     * Runs a write in {@value #LATENCY_WRITERS} threads at a rate for a while; returns the seconds it took. Writers
     * that fall behind the schedule write as fast as they can, but only until the time is up: what they wrote is
     * measured against the time, not against the schedule.
     */
    private static double writeAtRate(Runnable write, double perSecond, Duration duration) throws Exception {
        long intervalNanos = (long) (1e9 * LATENCY_WRITERS / perSecond);
        ExecutorService pool = Executors.newFixedThreadPool(LATENCY_WRITERS);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < LATENCY_WRITERS; t++) {
            done.add(pool.submit(() -> {
                long next = System.nanoTime();
                while (System.nanoTime() < end) {
                    write.run();
                    next += intervalNanos;
                    long sleep = next - System.nanoTime();
                    if (sleep > 0) {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : done) {
            future.get();
        }
        pool.shutdown();
        return (System.nanoTime() - start) / 1e9;
    }

    private ConfigurableApplicationContext application() {
        String topic = EmbeddedInfrastructure.newTopic("bench-app", PARTITIONS);
        return new SpringApplicationBuilder(BenchmarkApplication.class)
                .web(WebApplicationType.NONE)
                .properties(
                        "spring.main.banner-mode=off",
                        "spring.datasource.url=" + EmbeddedInfrastructure.newDatabaseUrl(),
                        "spring.datasource.username=postgres",
                        "spring.datasource.hikari.maximum-pool-size=10",
                        "spring.jpa.hibernate.ddl-auto=create",
                        "spring.jpa.open-in-view=false",
                        "spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers(),
                        "benchmark.topic=" + topic,
                        "logging.level.root=WARN",
                        "logging.level.org.apache.kafka=ERROR",
                        "logging.level.kafka=ERROR")
                .run();
    }

    /** Runs transactions in threads for a while; returns each one's latency in microseconds. */
    private static long[] runTransactions(int threads, Duration duration, Runnable transaction) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long end = System.nanoTime() + duration.toNanos();
        List<Future<long[]>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            results.add(pool.submit(() -> {
                List<Long> micros = new ArrayList<>();
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    transaction.run();
                    micros.add((System.nanoTime() - start) / 1_000);
                }
                return micros.stream().mapToLong(Long::longValue).toArray();
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> result : results) {
            all.add(result.get());
        }
        pool.shutdown();
        return all.stream().flatMapToLong(Arrays::stream).toArray();
    }

    /** The latencies of one W variant's transactions over all its rounds, the time they took, and the CPU time. */
    private static final class Transactions {

        private final List<long[]> rounds = new ArrayList<>();

        private double seconds;

        private double cpuSeconds;

        /** Runs one round of this variant's transactions. */
        void run(int threads, Duration slice, Runnable transaction) throws Exception {
            MachineCpu before = MachineCpu.read();
            this.rounds.add(runTransactions(threads, slice, transaction));
            this.cpuSeconds += MachineCpu.read().secondsSince(before);
            this.seconds += slice.toNanos() / 1e9;
        }

        double cpuSeconds() {
            return this.cpuSeconds;
        }

        double coresBusy() {
            return this.cpuSeconds / this.seconds;
        }

        double perSecond() {
            return count() / this.seconds;
        }

        double p99() {
            long[] sorted =
                    this.rounds.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return percentile(sorted, 0.99);
        }

        long count() {
            return this.rounds.stream().mapToLong(round -> round.length).sum();
        }
    }

    /** Consumes a topic from the beginning and counts records that reached Kafka before an earlier one of their key. */
    private int orderViolations(String topic) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                EmbeddedInfrastructure.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                "bench-" + UUID.randomUUID(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                "false",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                "5000");
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long total = consumer.endOffsets(partitions).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
            BitSet seen = new BitSet(this.rows);
            Map<String, Integer> highest = new HashMap<>();
            int violations = 0;
            long read = 0;
            while (read < total) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    read++;
                    Matcher seq = SEQ.matcher(new String(record.value(), 0, 40, StandardCharsets.UTF_8));
                    if (!seq.find()) {
                        violations++;
                        continue;
                    }
                    int n = Integer.parseInt(seq.group(1));
                    Integer before = highest.get(record.key());
                    if (before != null && n < before && !seen.get(n)) {
                        violations++;
                    }
                    seen.set(n);
                    highest.merge(record.key(), n, Math::max);
                }
            }
            if (seen.cardinality() != this.rows) {
                violations += this.rows - seen.cardinality();
            }
            return violations;
        }
    }

    /** Fills the outbox table with the benchmark's rows in one statement, as a backlog. */
    private static void fill(OutboxStore store, String topic, int count) {
        fill(store, topic, count, KEY_SQL);
    }

    /** Fills the outbox table with rows whose key is {@code keySql}, an expression of the row's number {@code i}. */
    private static void fill(OutboxStore store, String topic, int count, String keySql) {
        DataSource dataSource = store.dataSource();
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
     * The key of the i-th record: spread over the keys as by chance, the same in Java and in {@link #KEY_SQL}. Keys
     * taken in turn instead ({@code i % KEYS}) never meet twice in 10,000 consecutive rows, so a batch would never
     * hold two records of one key, nor two relays' batches one key, unlike in any real stream of events.
     */
    static String key(int i) {
        byte[] md5 = MD5.get().digest(Integer.toString(i).getBytes(StandardCharsets.US_ASCII));
        int hash = ByteBuffer.wrap(md5).getInt() & Integer.MAX_VALUE;
        return "agg-" + (hash % KEYS);
    }

    private static byte[] payload(int i) {
        return ("{\"seq\":" + i + ",\"data\":\"" + DATA + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private static double perSecond(long count, long nanos) {
        return count / (nanos / 1e9);
    }

    private static double percentile(long[] sortedMicros, double quantile) {
        if (sortedMicros.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedMicros.length - 1, Math.ceil(quantile * sortedMicros.length) - 1);
        return sortedMicros[Math.max(0, index)] / 1_000.0;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    private void row(String measure, double value) {
        this.table.add(String.format(Locale.ROOT, "| %s | %,.1f |", measure, value));
        this.figures.put(measure, round(value));
        System.out.printf(Locale.ROOT, "  %-58s %,14.1f%n", measure, value);
    }

    /**
     * A row of the whole machine's CPU time per event, row or transaction of a phase, in microseconds, unless it
     * could not be read. Returns it.
     */
    private double cpuRow(String phase, String unit, double cpuSeconds, long count) {
        double micros = cpuSeconds * 1e6 / count;
        cpuRow(phase + ": CPU time per " + unit + ", whole machine (µs)", micros);
        return micros;
    }

    /** A row of a CPU figure, unless it could not be read. */
    private void cpuRow(String measure, double value) {
        if (!Double.isNaN(value)) {
            row(measure, value);
        }
    }

    private record Drain(
            double eventsPerSecond, double startRate, double endRate, int orderViolations, double cpuMicros) {}

    /** How fast a ceiling went, and the whole machine's CPU time per event or row meanwhile, in microseconds. */
    private record Pace(double perSecond, double cpuMicros) {}

    private record Writers(double withEvent, double withoutEvent, double withoutEventCpuMicros) {}

    /** What the relays' cycles did, counted by {@link BenchmarkApplication}: cycles, empty ones, published events. */
    private record RelayActivity(long cycles, long empty, long published) {

        static final RelayActivity NONE = new RelayActivity(0, 0, 0);

        static RelayActivity now() {
            return new RelayActivity(
                    BenchmarkApplication.cycles.sum(),
                    BenchmarkApplication.emptyCycles.sum(),
                    BenchmarkApplication.published.sum());
        }

        RelayActivity since(RelayActivity before) {
            return new RelayActivity(
                    this.cycles - before.cycles, this.empty - before.empty, this.published - before.published);
        }

        RelayActivity plus(RelayActivity other) {
            return new RelayActivity(
                    this.cycles + other.cycles, this.empty + other.empty, this.published + other.published);
        }

        double meanBatch() {
            return this.cycles == 0 ? 0 : this.published / (double) this.cycles;
        }
    }
}
