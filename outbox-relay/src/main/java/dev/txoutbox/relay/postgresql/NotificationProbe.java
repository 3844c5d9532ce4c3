package dev.txoutbox.relay.postgresql;

import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link WakeUpListener}'s proof that notifications reach it: after each {@code LISTEN}, a notification of its
 * own on the table's channel, which must arrive within a bounded time. Used by the listener's thread only.
 *
 * <p>The probe goes out on a connection of the data source that the notifier uses, not on the listening one, as
 * other instances' notifications do: through a pooler in transaction mode, a notification sent on the listening
 * connection would be answered by the server connection it happens to run on, and prove nothing. A probe that could
 * not be sent goes out again at growing intervals until one resolves the state.
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

    private long nextSendNanos;

    private long retryMillis = FIRST_RETRY_MILLIS;

    private static final long FIRST_RETRY_MILLIS = 1_000;

    private static final long MAX_RETRY_MILLIS = 30_000;

    private final boolean stopsListening;

    /**
     * @param dataSource where the probes go out: the notifier's data source
     * @param stopsListening whether the listener stops listening when the probe does not arrive, as it does when it
     *     listens through the same data source, which must then go through a pooler
     */
    NotificationProbe(
            DataSource dataSource,
            String notifySql,
            TableName table,
            String instanceId,
            Duration timeout,
            boolean stopsListening) {
        this.dataSource = dataSource;
        this.notifySql = notifySql;
        this.table = table;
        this.instanceId = instanceId;
        this.timeout = timeout;
        this.stopsListening = stopsListening;
    }

    /** Forgets what the last probe showed, as when the listening connection was lost. */
    void reset() {
        this.state = WakeUpListener.Notifications.NOT_CHECKED;
        this.pending = null;
        this.retryMillis = FIRST_RETRY_MILLIS;
        this.nextSendNanos = System.nanoTime();
    }

    /** Sends a probe when none is out and the state is not known yet, once its retry interval is over. */
    void sendWhenDue() {
        if (this.state == WakeUpListener.Notifications.NOT_CHECKED
                && this.pending == null
                && System.nanoTime() - this.nextSendNanos >= 0) {
            send();
        }
    }

    static boolean isProbe(String payload) {
        return payload.startsWith(PREFIX);
    }

    WakeUpListener.Notifications state() {
        return this.state;
    }

    /** Sends a new probe; a failure to send it leaves the state as it was, is logged, and is tried again later. */
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
            this.nextSendNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.retryMillis);
            log.warn(
                    "Outbox: could not check that wake-up notifications for table '{}' reach this instance: sending a"
                            + " test notification failed; trying again in {} ms: {}",
                    this.table,
                    this.retryMillis,
                    ex.toString());
            this.retryMillis = Math.min(this.retryMillis * 2, MAX_RETRY_MILLIS);
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

    /**
     * Gives the probe up once its time is over, and says what that means.
     *
     * @return whether the listener should stop listening now
     */
    boolean checkDeadline() {
        if (this.pending == null || System.nanoTime() - this.deadlineNanos < 0) {
            return false;
        }
        this.pending = null;
        this.state = WakeUpListener.Notifications.DO_NOT_ARRIVE;
        log.warn(
                "Outbox: wake-up notifications for table '{}' do not reach this instance: the listener's test"
                        + " notification did not arrive within {} s. Behind a connection pooler in transaction mode"
                        + " (such as PgBouncer with pool_mode=transaction), LISTEN holds on the server connection it"
                        + " ran on, whose notifications go to whatever client uses that connection next, not to this"
                        + " listener. {} The relay finds rows written by other instances at its poll interval"
                        + " (outbox.relay.poll-interval) instead. Turn the wake-ups off"
                        + " (outbox.relay.notify.enabled=false), or give the listener a connection that goes to"
                        + " PostgreSQL directly (outbox.relay.notify.listener-url; without Spring Boot, a DataSource"
                        + " of its own).",
                this.table,
                this.timeout.toSeconds(),
                this.stopsListening
                        ? "So the listener stops listening (UNLISTEN) and does not listen again until the application"
                                + " restarts."
                        : "The listener keeps listening on its own connection.");
        return this.stopsListening;
    }
}
