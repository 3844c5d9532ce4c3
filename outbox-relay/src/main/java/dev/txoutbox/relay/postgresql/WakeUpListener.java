package dev.txoutbox.relay.postgresql;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.util.ClassUtils;

/**
 * Wakes the relays of a table up when another instance committed rows to it: listens for the notifications of the
 * other instances' {@link WakeUpNotifier}s (PostgreSQL {@code LISTEN}), and ignores its own instance's, whose
 * commits woke the relays up already.
 *
 * <p>It runs in a daemon thread of its own and holds one connection of the data source while it runs. When that
 * connection breaks, it logs a warning once, connects again after a growing delay (1 s, doubling up to 30 s), logs
 * when it listens again, and then wakes the relays up, since notifications sent in between were lost; meanwhile the
 * relays find the rows at their poll interval. Connections that are not the PostgreSQL JDBC driver's
 * ({@code org.postgresql.PGConnection}) cannot listen: then it says so once and does nothing.
 *
 * <p>After each {@code LISTEN} it proves that notifications reach it: it sends one of its own through the
 * notifier's data source, and waits for it (a few seconds at most); one it could not send goes out again at growing
 * intervals. The probe goes out on a short-lived thread of its own, so that a busy pool does not keep this one from
 * reading notifications. When it does not arrive, as behind a connection pooler in transaction mode, where
 * notifications go to whatever client shares the server connection that ran {@code LISTEN}, it says so at WARN, with
 * what to do. When the listening connection shows a pooler (the server process that its start-up handshake named
 * does not run its queries), it then also stops listening and does not listen again, so as not to leave more server
 * connections listening; on a direct connection, which may just belong to a busy database, it keeps listening and
 * probes again at growing intervals. The relays find other instances' rows at their poll interval meanwhile.
 * {@link #notifications()} tells the outcome.
 */
public final class WakeUpListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WakeUpListener.class);

    private static final String PG_CONNECTION = "org.postgresql.PGConnection";

    /** How long one wait for notifications lasts; it bounds how long {@link #stop()} waits for the thread. */
    private static final int RECEIVE_MILLIS = 250;

    /** How often the connection is checked: a connection whose peer vanished would otherwise wait forever. */
    private static final long CHECK_NANOS = TimeUnit.SECONDS.toNanos(30);

    private static final int CHECK_TIMEOUT_SECONDS = 5;

    private static final long FIRST_RETRY_MILLIS = 1_000;

    private static final long MAX_RETRY_MILLIS = 30_000;

    /** How long the listener waits for its own test notification after {@code LISTEN}. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

    /** Whether notifications reach the listener, as its last test notification showed. */
    public enum Notifications {
        /** Not known yet: the listener has not listened, or has not had its test notification back yet. */
        NOT_CHECKED,
        /** Its test notification arrived after its last {@code LISTEN}. */
        ARRIVE,
        /** Its test notification did not arrive in time: the relays rely on their poll interval. */
        DO_NOT_ARRIVE
    }

    private final DataSource dataSource;

    private final TableName table;

    private final String listenSql;

    private final String unlistenSql;

    private final String ownInstanceId;

    private final Runnable wakeUp;

    private final NotificationProbe probe;

    private final Object monitor = new Object();

    private volatile boolean running;

    private volatile boolean listening;

    private @Nullable Thread thread;

    // The fields below are used by the listener's thread only.

    private boolean broken;

    private long retryMillis = FIRST_RETRY_MILLIS;

    /**
     * Creates a listener that listens through the data source that its instance's notifier uses.
     *
     * @param dataSource where the table lives; the listener holds one of its connections while it runs
     * @param dialect the SQL of the database
     * @param table the outbox table whose wake-ups it listens for
     * @param ownInstanceId the {@link WakeUpNotifier#instanceId()} of this instance, whose notifications it ignores
     * @param wakeUp what a commit of another instance does, such as waking the relays of the table up
     */
    public WakeUpListener(
            DataSource dataSource, OutboxDialect dialect, TableName table, String ownInstanceId, Runnable wakeUp) {
        this(dataSource, dataSource, dialect, table, ownInstanceId, wakeUp);
    }

    /**
     * Creates a listener; {@link #start()} starts its thread.
     *
     * @param dataSource where it listens: connections to the table's database that keep their server connection,
     *     such as direct ones past a pooler in transaction mode; it holds one of them while it runs
     * @param notifierDataSource the data source that the notifier sends wake-ups through, the application's; its test
     *     notifications go out there
     * @param dialect the SQL of the database
     * @param table the outbox table whose wake-ups it listens for
     * @param ownInstanceId the {@link WakeUpNotifier#instanceId()} of this instance, whose notifications it ignores
     * @param wakeUp what a commit of another instance does, such as waking the relays of the table up
     */
    public WakeUpListener(
            DataSource dataSource,
            DataSource notifierDataSource,
            OutboxDialect dialect,
            TableName table,
            String ownInstanceId,
            Runnable wakeUp) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.table = Objects.requireNonNull(table, "table");
        this.listenSql = dialect.listenForWakeUps(table);
        this.unlistenSql = dialect.unlistenWakeUps(table);
        this.ownInstanceId = Objects.requireNonNull(ownInstanceId, "ownInstanceId");
        this.wakeUp = Objects.requireNonNull(wakeUp, "wakeUp");
        this.probe = new NotificationProbe(
                Objects.requireNonNull(notifierDataSource, "notifierDataSource"),
                dialect.notifyWakeUp(table),
                table,
                ownInstanceId,
                PROBE_TIMEOUT);
    }

    /** Whether the listener holds a connection that listens right now. */
    public boolean isListening() {
        return this.listening;
    }

    /**
     * Whether notifications reach the listener: the outcome of the test notification it sends after each
     * {@code LISTEN}, so also after it connected again.
     */
    public Notifications notifications() {
        return this.probe.state();
    }

    private void run() {
        if (!ClassUtils.isPresent(PG_CONNECTION, WakeUpListener.class.getClassLoader())) {
            logNotListening("the PostgreSQL JDBC driver (%s) is not on the class path".formatted(PG_CONNECTION));
            return;
        }
        while (this.running) {
            try {
                if (!listenUntilStopped()) {
                    return;
                }
            } catch (SQLException | RuntimeException ex) {
                // What the last test notification showed held for the connection that was lost.
                this.probe.reset();
                if (!this.running) {
                    return;
                }
                if (this.broken) {
                    log.debug("Outbox: listening for wake-ups of table '{}' failed again", this.table, ex);
                } else {
                    log.warn(
                            "Outbox: listening for wake-ups of table '{}' failed; trying again after {} ms, then at"
                                    + " growing intervals up to {} s, and meanwhile the relay finds other instances'"
                                    + " rows at its poll interval: {}",
                            this.table,
                            this.retryMillis,
                            MAX_RETRY_MILLIS / 1000,
                            ex.toString());
                    this.broken = true;
                }
                pause(this.retryMillis);
                this.retryMillis = Math.min(this.retryMillis * 2, MAX_RETRY_MILLIS);
            }
        }
    }

    /**
     * Listens on a connection of its own until the listener stops ({@code true}) or the connection breaks (throws);
     * {@code false} when the connections cannot listen, or notifications do not arrive through them. Gives the connection back before it returns.
     */
    private boolean listenUntilStopped() throws SQLException {
        Connection connection = this.dataSource.getConnection();
        boolean mayListen = false;
        try {
            if (!connection.isWrapperFor(PGConnection.class)) {
                logNotListening("the DataSource's connections are not the PostgreSQL JDBC driver's (%s)"
                        .formatted(PG_CONNECTION));
                return false;
            }
            PGConnection notifications = connection.unwrap(PGConnection.class);
            connection.setAutoCommit(true);
            mayListen = true;
            execute(connection, this.listenSql);
            if (this.broken) {
                log.info("Outbox: listening for wake-ups of table '{}' again", this.table);
                // What other instances committed while nobody listened would otherwise wait for the poll.
                wakeUp();
                this.broken = false;
            } else {
                log.info("Outbox: listening for wake-ups of table '{}' from other instances", this.table);
            }
            this.retryMillis = FIRST_RETRY_MILLIS;
            this.listening = true;
            this.probe.reset();
            return receive(connection, notifications);
        } finally {
            this.listening = false;
            release(connection, mayListen);
        }
    }

    /**
     * Waits for notifications until the listener stops ({@code true}) or gives up since they do not arrive
     * ({@code false}); throws when the connection breaks.
     */
    private boolean receive(Connection connection, PGConnection notifications) throws SQLException {
        long checkedAt = System.nanoTime();
        while (this.running) {
            PGNotification[] received = notifications.getNotifications(RECEIVE_MILLIS);
            if (received != null && fromAnotherInstance(received)) {
                wakeUp();
            }
            this.probe.sendWhenDue();
            if (this.probe.checkDeadline(connection)) {
                return false;
            }
            if (System.nanoTime() - checkedAt >= CHECK_NANOS) {
                if (!connection.isValid(CHECK_TIMEOUT_SECONDS)) {
                    throw new SQLException("the listening connection did not answer a check within %d s"
                            .formatted(CHECK_TIMEOUT_SECONDS));
                }
                checkedAt = System.nanoTime();
            }
        }
        return true;
    }

    /** Whether one of the notifications came from another instance; takes note of the test notifications. */
    private boolean fromAnotherInstance(PGNotification[] received) {
        boolean fromAnother = false;
        for (PGNotification notification : received) {
            String payload = notification.getParameter();
            if (NotificationProbe.isProbe(payload)) {
                this.probe.received(payload);
            } else if (!this.ownInstanceId.equals(payload)) {
                fromAnother = true;
            }
        }
        return fromAnother;
    }

    private void wakeUp() {
        try {
            this.wakeUp.run();
        } catch (RuntimeException ex) {
            log.warn("Outbox: waking the relays of table '{}' up failed: {}", this.table, ex.toString(), ex);
        }
    }

    private void logNotListening(String reason) {
        log.info(
                "Outbox: the relay does not listen for wake-ups from other instances, since {}; it finds their rows"
                        + " at its poll interval. (Without a WakeUpListener and WakeUpNotifier, it does not try.)",
                reason);
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /**
     * Gives the connection back, listening no more. The statement goes through the pool's connection, not the
     * driver's, so that a pool sees a broken connection fail and discards it rather than handing it out again.
     */
    private void release(@Nullable Connection connection, boolean mayListen) {
        if (connection == null) {
            return;
        }
        try {
            if (mayListen) {
                // A connection whose peer vanished would otherwise keep this thread until TCP gives up.
                connection.setNetworkTimeout(Runnable::run, CHECK_TIMEOUT_SECONDS * 1000);
                execute(connection, this.unlistenSql);
            }
        } catch (SQLException | RuntimeException ex) {
            log.debug("Outbox: the wake-up listener's connection is broken", ex);
        } finally {
            try {
                connection.close();
            } catch (SQLException | RuntimeException ex) {
                log.debug("Outbox: closing the wake-up listener's connection failed", ex);
            }
        }
    }

    private void pause(long millis) {
        synchronized (this.monitor) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            long left;
            while (this.running && (left = until - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(this.monitor, left);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public void start() {
        synchronized (this.monitor) {
            if (this.running) {
                return;
            }
            this.running = true;
            this.thread = DaemonThreads.start("outbox-wake-up-listener", this::run);
        }
    }

    @Override
    public void stop() {
        Thread stopping;
        synchronized (this.monitor) {
            if (!this.running) {
                return;
            }
            this.running = false;
            this.monitor.notifyAll();
            stopping = this.thread;
            this.thread = null;
        }
        if (stopping == null || stopping == Thread.currentThread()) {
            return;
        }
        // The thread notices within one wait for notifications, unless it waits for a connection.
        DaemonThreads.stop(stopping, Duration.ofMillis(4L * RECEIVE_MILLIS), Duration.ofSeconds(1));
        log.info("Outbox: stopped listening for wake-ups of table '{}'", this.table);
    }

    @Override
    public boolean isRunning() {
        return this.running;
    }

    /** The relays' phase, {@link OutboxRelay#PHASE}: it runs while they do. */
    @Override
    public int getPhase() {
        return OutboxRelay.PHASE;
    }
}
