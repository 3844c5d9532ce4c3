package dev.txoutbox.relay.postgresql;

import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link WakeUpListener}'s proof that notifications reach it: after each {@code LISTEN}, a notification of its
 * own on the table's channel, which must arrive within a bounded time. Used by the listener's thread only.
 *
 * <p>The probe goes out on another connection of the data source than the listening one, as other instances'
 * notifications do: through a pooler in transaction mode, a notification sent on the listening connection would be
 * answered by the server connection it happens to run on, and prove nothing.
 */
final class NotificationProbe {

    private static final Logger log = LoggerFactory.getLogger(NotificationProbe.class);

    /** Starts the payload of every probe, so that all listeners, of any instance, tell probes from wake-ups. */
    static final String PREFIX = "probe:";

    private static final AtomicLong sequence = new AtomicLong();

    private final DataSource dataSource;

    private final String notifySql;

    private final TableName table;

    private final String instanceId;

    private final Duration timeout;

    private volatile WakeUpListener.Notifications state = WakeUpListener.Notifications.NOT_CHECKED;

    private @Nullable String pending;

    private long deadlineNanos;

    NotificationProbe(DataSource dataSource, String notifySql, TableName table, String instanceId, Duration timeout) {
        this.dataSource = dataSource;
        this.notifySql = notifySql;
        this.table = table;
        this.instanceId = instanceId;
        this.timeout = timeout;
    }

    static boolean isProbe(String payload) {
        return payload.startsWith(PREFIX);
    }

    WakeUpListener.Notifications state() {
        return this.state;
    }

    /** Sends a new probe; a failure to send it leaves the state as it was, and is logged. */
    void send() {
        String payload = PREFIX + this.instanceId + ":" + sequence.incrementAndGet();
        try (Connection connection = this.dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(this.notifySql)) {
            statement.setString(1, payload);
            statement.execute();
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
            this.pending = payload;
            this.deadlineNanos = System.nanoTime() + this.timeout.toNanos();
        } catch (SQLException | RuntimeException ex) {
            this.pending = null;
            log.info(
                    "Outbox: could not check that wake-up notifications for table '{}' reach this instance: sending a"
                            + " test notification failed: {}",
                    this.table,
                    ex.toString());
        }
    }

    /** Takes note of a probe that arrived. */
    void received(String payload) {
        if (payload.equals(this.pending)) {
            this.pending = null;
            this.state = WakeUpListener.Notifications.ARRIVE;
            log.info(
                    "Outbox: wake-up notifications for table '{}' reach this instance: its test notification arrived",
                    this.table);
        }
    }

    /** Gives the probe up once its time is over, and says what that means. */
    void checkDeadline() {
        if (this.pending == null || System.nanoTime() - this.deadlineNanos < 0) {
            return;
        }
        this.pending = null;
        this.state = WakeUpListener.Notifications.DO_NOT_ARRIVE;
        log.warn(
                "Outbox: wake-up notifications for table '{}' do not reach this instance: the listener's test"
                        + " notification did not arrive within {} s. A connection pooler in transaction mode (such as"
                        + " PgBouncer with pool_mode=transaction) drops notifications. The relay finds rows written by"
                        + " other instances at its poll interval (outbox.relay.poll-interval) instead. Turn the"
                        + " wake-ups off (outbox.relay.notify.enabled=false), or give the listener a connection that"
                        + " goes to PostgreSQL directly (outbox.relay.notify.listener-url; without Spring Boot, a"
                        + " DataSource of its own).",
                this.table,
                this.timeout.toSeconds());
    }
}
