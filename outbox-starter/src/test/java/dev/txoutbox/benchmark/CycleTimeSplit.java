package dev.txoutbox.benchmark;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.ForwardingRecordPublisher;
import dev.txoutbox.testing.OutboxTestTables;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;

/**
 * C: where one relay's cycles spend their time while it drains a backlog, read off the relay's own calls to its
 * connection and its publisher: borrowing the connection and starting the cycle (its slot and settings), the claim's
 * statement, reading its rows and preparing the sends (until the first send), the sends (the time spent in the
 * publisher's calls), the wait for the broker's acknowledgements (the rest of the time between the first send and
 * the delete), the delete, the commit with its flush, and the rest (the bookkeeping of failures, the transaction
 * manager). The time between cycles is not in any part. Only cycles that published something count. It runs once with the relay's
 * default settings and once with {@code synchronousCommit}, whose commits wait for their flush to disk when
 * PostgreSQL keeps its commits. For O ({@link #runOneEvent}), it splits cycles that publish one event each instead,
 * run one after the other in one thread. PostgreSQL only: it tells the statements apart by PostgreSQL's SQL.
 */
final class CycleTimeSplit {

    /** The parts of a cycle, in the order they come. */
    private static final String[] PARTS = {
        "borrowing the connection, starting the cycle",
        "claim",
        "reading the claimed rows, preparing the sends",
        "sends",
        "waiting for acknowledgements",
        "delete",
        "commit",
        "the rest"
    };

    private static final int START = 0, CLAIM = 1, READ = 2, SENDS = 3, ACKS = 4, DELETE = 5, COMMIT = 6, REST = 7;

    private final Report report;

    private final int rows;

    private final String name;

    private final boolean synchronousCommit;

    private final LongAdder[] totals = new LongAdder[PARTS.length];

    private final LongAdder cycles = new LongAdder();

    private final LongAdder published = new LongAdder();

    /** For O: each timed cycle's parts, in nanoseconds, for their percentiles. */
    private final List<long[]> oneEventCycles = new ArrayList<>();

    /** The cycle of each relay thread. */
    private final ThreadLocal<CycleClock> clocks = ThreadLocal.withInitial(CycleClock::new);

    /** Whether the cycles publish one event each, run one after the other in one thread, rather than drain. */
    private final boolean oneEvent;

    private CycleTimeSplit(Report report, int rows, boolean synchronousCommit, boolean oneEvent) {
        this.report = report;
        this.rows = rows;
        this.synchronousCommit = synchronousCommit;
        this.oneEvent = oneEvent;
        this.name = oneEvent ? "O, cycles of one event" : synchronousCommit ? "C, synchronous commits" : "C";
        for (int i = 0; i < PARTS.length; i++) {
            this.totals[i] = new LongAdder();
        }
    }

    /** Splits the cycles' time with the default settings, then with synchronous commits. */
    static void run(Report report, int rows) throws Exception {
        new CycleTimeSplit(report, rows, false, false).run();
        new CycleTimeSplit(report, rows, true, false).run();
    }

    /**
     * Splits the time of cycles that publish one event each, with the default settings: {@code cycles} of them, one
     * after the other in the calling thread, each after one row was written.
     */
    static void runOneEvent(Report report, int cycles) throws Exception {
        new CycleTimeSplit(report, cycles, false, true).run();
    }

    private void run() throws Exception {
        HikariDataSource database = EmbeddedInfrastructure.newDatabase();
        OutboxStore store = OutboxTestTables.migratedStore(timed(database));
        String topic = EmbeddedInfrastructure.newTopic("bench-cycle", Workload.PARTITIONS);
        if (!this.oneEvent) {
            Workload.fill(store, topic, this.rows);
        }
        RelaySettings settings = RelaySettings.builder()
                .synchronousCommit(this.synchronousCommit)
                .build();
        if (this.oneEvent) {
            runOneEvent(store, topic, settings);
            database.close();
            return;
        }
        LongAdder done = new LongAdder();
        long start = System.nanoTime();
        try (KafkaRecordPublisher publisher = Workload.newPublisher(settings)) {
            OutboxRelay relay = new OutboxRelay(store, timed(publisher), settings, List.of(Workload.progress(done)));
            relay.start();
            try {
                while (done.sum() < this.rows) {
                    Thread.sleep(5);
                }
            } finally {
                relay.stop();
            }
        }
        double eps = Measures.perSecond(this.rows, System.nanoTime() - start);
        Workload.discardDeadRows(store);
        database.close();
        this.report.row(this.name + ": relay draining the backlog, cycles timed (events/s)", eps);
        this.report.row(
                this.name + ": cycles that published, mean size (events)",
                this.published.sum() / (double) this.cycles.sum());
        reportParts();
    }

    /** One cycle after another, each publishing the one row written before it; the first half warms up. */
    private void runOneEvent(OutboxStore store, String topic, RelaySettings settings) throws Exception {
        try (KafkaRecordPublisher publisher = Workload.newPublisher(settings)) {
            OutboxRelay relay = new OutboxRelay(store, timed(publisher), settings, List.of());
            for (int i = 0; i < 2 * this.rows; i++) {
                if (i == this.rows) {
                    Arrays.stream(this.totals).forEach(LongAdder::reset);
                    this.cycles.reset();
                    this.published.reset();
                    this.oneEventCycles.clear();
                }
                Workload.write(store, topic, i);
                relay.relayOnce();
            }
        }
        reportParts();
    }

    private void reportParts() {
        long count = this.cycles.sum();
        double total = 0;
        for (int i = 0; i < PARTS.length; i++) {
            double millis = this.totals[i].sum() / 1e6 / count;
            total += millis;
            this.report.row(this.name + ": per cycle, " + PARTS[i] + " (ms)", millis);
        }
        this.report.row(this.name + ": per cycle, in all (ms)", total);
        if (this.oneEventCycles.isEmpty()) {
            return;
        }
        // Which part the slow cycles are slow in: each part's p99 over the cycles, and the whole cycle's.
        for (int i = 0; i <= PARTS.length; i++) {
            int part = i;
            long[] sortedMicros = this.oneEventCycles.stream()
                    .mapToLong(parts -> (part < PARTS.length
                                    ? parts[part]
                                    : Arrays.stream(parts).sum())
                            / 1_000)
                    .sorted()
                    .toArray();
            String what = part < PARTS.length ? PARTS[part] : "in all";
            this.report.row(this.name + ": p99 of " + what + " (ms)", Measures.percentile(sortedMicros, 0.99));
        }
    }

    /** What one relay thread's current cycle spent so far, in nanoseconds. */
    private static final class CycleClock {

        final long[] parts = new long[PARTS.length];

        long startedAt;

        long claimedAt;

        long firstSendAt;

        int sends;

        boolean deleted;

        void reset(long now) {
            Arrays.fill(this.parts, 0);
            this.startedAt = now;
            this.claimedAt = 0;
            this.firstSendAt = 0;
            this.sends = 0;
            this.deleted = false;
        }
    }

    private void committed(CycleClock clock, long now) {
        if (!clock.deleted) {
            return;
        }
        long accounted = 0;
        for (int i = 0; i < REST; i++) {
            accounted += clock.parts[i];
        }
        clock.parts[REST] = Math.max(0, now - clock.startedAt - accounted);
        for (int i = 0; i < PARTS.length; i++) {
            this.totals[i].add(clock.parts[i]);
        }
        this.cycles.increment();
        this.published.add(clock.sends);
        if (this.oneEvent) {
            this.oneEventCycles.add(clock.parts.clone());
        }
    }

    private DataSource timed(DataSource dataSource) {
        return proxy(DataSource.class, dataSource, (method, arguments, call) -> {
            if (!method.getName().equals("getConnection")) {
                return call.invoke();
            }
            long begin = System.nanoTime();
            CycleClock clock = this.clocks.get();
            clock.reset(begin);
            Connection connection = (Connection) call.invoke();
            clock.parts[START] += System.nanoTime() - begin;
            return timed(connection);
        });
    }

    private Connection timed(Connection connection) {
        return proxy(Connection.class, connection, (method, arguments, call) -> {
            if (method.getName().equals("commit")) {
                CycleClock clock = this.clocks.get();
                long begin = System.nanoTime();
                Object result = call.invoke();
                long now = System.nanoTime();
                clock.parts[COMMIT] += now - begin;
                committed(clock, now);
                return result;
            }
            if (method.getName().equals("prepareStatement")
                    && arguments != null
                    && arguments[0] instanceof String sql) {
                return timed((PreparedStatement) call.invoke(), part(sql));
            }
            return call.invoke();
        });
    }

    private static int part(String sql) {
        String text = sql.strip();
        if (text.contains("'plan_cache_mode'")) {
            return START;
        }
        if (text.contains("FOR UPDATE")) {
            return CLAIM;
        }
        if (text.startsWith("DELETE") && text.contains("ANY(?)") && !text.contains("SKIP LOCKED")) {
            return DELETE;
        }
        return REST;
    }

    private PreparedStatement timed(PreparedStatement statement, int part) {
        return proxy(PreparedStatement.class, statement, (method, arguments, call) -> {
            if (!method.getName().startsWith("execute") || part == REST) {
                return call.invoke();
            }
            CycleClock clock = this.clocks.get();
            long begin = System.nanoTime();
            if (part == DELETE && clock.firstSendAt != 0) {
                clock.parts[ACKS] += Math.max(0, begin - clock.firstSendAt - clock.parts[SENDS]);
                clock.deleted = true;
            }
            Object result = call.invoke();
            long now = System.nanoTime();
            clock.parts[part] += now - begin;
            if (part == CLAIM) {
                clock.claimedAt = now;
            }
            return result;
        });
    }

    private RecordPublisher timed(RecordPublisher publisher) {
        return new ForwardingRecordPublisher(publisher) {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                CycleClock clock = CycleTimeSplit.this.clocks.get();
                long begin = System.nanoTime();
                if (clock.firstSendAt == 0 && clock.claimedAt != 0) {
                    clock.firstSendAt = begin;
                    clock.parts[READ] += begin - clock.claimedAt;
                }
                try {
                    return super.publish(record);
                } finally {
                    clock.parts[SENDS] += System.nanoTime() - begin;
                    clock.sends++;
                }
            }
        };
    }

    /** Calls the proxied object's method. */
    private interface Call {
        Object invoke() throws Throwable;
    }

    private interface Handler {
        Object handle(Method method, Object[] arguments, Call call) throws Throwable;
    }

    private static <T> T proxy(Class<T> type, T target, Handler handler) {
        return type.cast(Proxy.newProxyInstance(
                type.getClassLoader(),
                new Class<?>[] {type},
                (proxy, method, arguments) -> handler.handle(method, arguments, () -> {
                    try {
                        return method.invoke(target, arguments);
                    } catch (InvocationTargetException ex) {
                        throw ex.getCause();
                    }
                })));
    }
}
