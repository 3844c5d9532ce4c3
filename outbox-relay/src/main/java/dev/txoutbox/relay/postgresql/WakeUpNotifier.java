package dev.txoutbox.relay.postgresql;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the relays of other instances that rows were committed, so that they need not wait for their poll interval:
 * a database notification on the table's channel (PostgreSQL {@code NOTIFY}), which a {@link WakeUpListener} turns
 * into {@link OutboxRelay#wakeUp()}.
 *
 * <p>{@link #committed()} is called after each commit that wrote rows; it never blocks and never fails. The
 * notification is sent by a thread of its own, on a connection of its own, after the business transaction: a
 * transaction that notifies takes a server-wide lock while it commits, which would make writers take turns. At
 * most one notification goes out per interval: the first commit after a quiet interval is notified at once, the
 * commits during an interval by one notification at its end. A failed notification is logged at most once a minute;
 * the other instances' relays then find the rows at their poll interval.
 */
public final class WakeUpNotifier implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WakeUpNotifier.class);

    /** The default minimum time between two notifications of one instance. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(20);

    private static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final DataSource dataSource;

    private final TableName table;

    private final String sql;

    private final long intervalNanos;

    private final String instanceId = UUID.randomUUID().toString();

    private final AtomicBoolean pending = new AtomicBoolean();

    private final ScheduledExecutorService sender;

    // The fields below are used by the sender thread only.

    private long lastSentNanos;

    private boolean failing;

    private long lastWarningNanos;

    private int failuresNotLogged;

    /**
     * Creates a notifier; its thread starts with the first notification.
     *
     * @param dataSource where the table lives; each notification borrows a connection
     * @param dialect the SQL of the database
     * @param table the outbox table, whose relays are notified
     * @param interval the minimum time between two notifications
     */
    public WakeUpNotifier(DataSource dataSource, OutboxDialect dialect, TableName table, Duration interval) {
        if (interval == null || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException(("Invalid WakeUpNotifier interval=%s: it must be a positive duration"
                            + " such as %dms, the minimum time between two wake-up notifications of this instance.")
                    .formatted(interval != null ? interval.toMillis() + "ms" : null, DEFAULT_INTERVAL.toMillis()));
        }
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.table = Objects.requireNonNull(table, "table");
        this.sql = dialect.notifyWakeUp(table);
        this.intervalNanos = interval.toNanos();
        // System.nanoTime() has an arbitrary origin, which may be negative: the first notification is due at once.
        this.lastSentNanos = System.nanoTime() - this.intervalNanos;
        this.lastWarningNanos = System.nanoTime() - WARNING_INTERVAL_NANOS;
        this.sender = DaemonThreads.singleThreadScheduledExecutor("outbox-wake-up-notifier");
    }

    /** The id this notifier sends, so that the {@link WakeUpListener} of its own instance can ignore it. */
    public String instanceId() {
        return this.instanceId;
    }

    /** Asks for a notification, after a commit that wrote rows. Cheap, never blocks, never fails. */
    public void committed() {
        // One notification pending covers every commit until it goes out; only the first commit asks for it.
        if (this.pending.compareAndSet(false, true)) {
            try {
                this.sender.execute(this::sendWhenDue);
            } catch (RejectedExecutionException ex) {
                // Closed: the application is stopping, and the other instances poll.
            }
        }
    }

    private void sendWhenDue() {
        long wait = this.lastSentNanos + this.intervalNanos - System.nanoTime();
        if (wait > 0) {
            this.sender.schedule(this::sendWhenDue, wait, TimeUnit.NANOSECONDS);
            return;
        }
        // Commits from now on need a notification of their own: this one may go out before they commit.
        this.pending.set(false);
        this.lastSentNanos = System.nanoTime();
        try {
            send();
            if (this.failing) {
                log.info("Outbox: wake-up notifications for table '{}' are sent again", this.table);
                this.failing = false;
            }
        } catch (SQLException | RuntimeException ex) {
            failed(ex);
        }
    }

    private void send() throws SQLException {
        try (Connection connection = this.dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(this.sql)) {
            statement.setString(1, this.instanceId);
            statement.execute();
            // The notification is delivered when its transaction commits.
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
        }
    }

    private void failed(Exception ex) {
        this.failing = true;
        long now = System.nanoTime();
        if (now - this.lastWarningNanos < WARNING_INTERVAL_NANOS) {
            this.failuresNotLogged++;
            return;
        }
        log.warn(
                "Outbox: sending wake-up notifications for table '{}' fails ({} failed since the last such warning,"
                        + " which comes at most once a minute); the relays of other instances find the rows at their"
                        + " poll interval meanwhile: {}",
                this.table,
                this.failuresNotLogged + 1,
                ex.toString());
        this.lastWarningNanos = now;
        this.failuresNotLogged = 0;
    }

    /** Stops the notifier's thread; later commits send nothing. */
    @Override
    public void close() {
        this.sender.shutdownNow();
    }
}
