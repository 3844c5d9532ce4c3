package dev.txoutbox.relay.postgresql;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.store.ConnectionPoolerCheck;
import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link WakeUpListener}'s proof that notifications reach it: after each {@code LISTEN}, a notification of its
 * own on the table's channel, which must arrive within a bounded time. Its methods are called by the listener's thread
 * only; the probe itself goes out on a short-lived daemon thread, so that waiting for a connection of a busy pool
 * neither keeps the listener from reading notifications nor delays its stop.
 *
 * <p>The probe goes out on a connection of the data source that the notifier uses, not on the listening one, as
 * other instances' notifications do: through a pooler in transaction mode, a notification sent on the listening
 * connection would be answered by the server connection it happens to run on, and prove nothing. A probe that could
 * not be sent goes out again at growing intervals until one resolves the state. A probe that did not arrive in time
 * on a listening connection that goes to PostgreSQL directly proves nothing either (the database may be busy): the
 * listener keeps listening, and probes again at growing intervals.
 */
final class NotificationProbe {

    private static final Logger log = LoggerFactory.getLogger(NotificationProbe.class);

    /** Starts the payload of every probe, so that all listeners, of any instance, tell probes from wake-ups. */
    static final String PREFIX = "probe:";

    private static final AtomicLong sequence = new AtomicLong();

    private static final long FIRST_RETRY_MILLIS = 1_000;

    private static final long MAX_RETRY_MILLIS = 30_000;

    private final DataSource dataSource;

    private final String notifySql;

    private final TableName table;

    private final String instanceId;

    private final Duration timeout;

    private volatile WakeUpListener.Notifications state = WakeUpListener.Notifications.NOT_CHECKED;

    /** The payload of the probe that is out, being sent or sent; {@code null} when none is. */
    private @Nullable String pending;

    /** The sending of the pending probe, until the listener's thread saw it end. */
    private @Nullable CompletableFuture<Void> sending;

    private long deadlineNanos;

    private long nextSendNanos;

    private long retryMillis = FIRST_RETRY_MILLIS;

    /** Whether the listener listens on, and probes again, after a probe that did not arrive. */
    private boolean probingAgain;

    /** @param dataSource where the probes go out: the notifier's data source */
    NotificationProbe(DataSource dataSource, String notifySql, TableName table, String instanceId, Duration timeout) {
        this.dataSource = dataSource;
        this.notifySql = notifySql;
        this.table = table;
        this.instanceId = instanceId;
        this.timeout = timeout;
    }

    /** Forgets what the last probe showed, as when the listening connection was lost. */
    void reset() {
        this.state = WakeUpListener.Notifications.NOT_CHECKED;
        // A probe still being sent ends on its own; its payload no longer matches.
        this.pending = null;
        this.sending = null;
        this.probingAgain = false;
        this.retryMillis = FIRST_RETRY_MILLIS;
        this.nextSendNanos = System.nanoTime();
    }

    /** Sends a probe when none is out and the state is not known yet, once its retry interval is over. */
    void sendWhenDue() {
        if ((this.state == WakeUpListener.Notifications.NOT_CHECKED || this.probingAgain)
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

    /** Sends a new probe off the listener's thread; {@link #checkDeadline} takes note of how the sending ended. */
    private void send() {
        String payload = PREFIX + this.instanceId + ":" + sequence.incrementAndGet();
        this.pending = payload;
        this.sending = CompletableFuture.runAsync(
                () -> notify(payload), task -> DaemonThreads.start("outbox-wake-up-probe", task));
    }

    private void notify(String payload) {
        try (Connection connection = this.dataSource.getConnection();
                PreparedStatement statement = connection.prepareStatement(this.notifySql)) {
            statement.setString(1, payload);
            statement.execute();
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
        } catch (SQLException ex) {
            throw new CompletionException(ex);
        }
    }

    /** Takes note of a probe that arrived. */
    void received(String payload) {
        if (payload.equals(this.pending)) {
            this.pending = null;
            this.sending = null;
            this.probingAgain = false;
            this.retryMillis = FIRST_RETRY_MILLIS;
            this.state = WakeUpListener.Notifications.ARRIVE;
            log.info(
                    "Outbox: wake-up notifications for table '{}' reach this instance: its test notification arrived",
                    this.table);
        }
    }

    /**
     * Takes note of a probe whose sending ended, and gives a sent one up once its time is over, saying what that
     * means.
     *
     * @param listening the listening connection, which tells whether it goes through a pooler
     * @return whether the listener should stop listening now: the probe did not arrive, and the listening connection
     *     goes through a pooler
     * @throws SQLException when the listening connection fails to answer
     */
    boolean checkDeadline(Connection listening) throws SQLException {
        CompletableFuture<Void> sent = this.sending;
        if (sent != null) {
            if (!sent.isDone()) {
                return false;
            }
            this.sending = null;
            if (sent.isCompletedExceptionally()) {
                sendingFailed(sent);
                return false;
            }
            this.deadlineNanos = System.nanoTime() + this.timeout.toNanos();
        }
        if (this.pending == null || System.nanoTime() - this.deadlineNanos < 0) {
            return false;
        }
        this.pending = null;
        boolean firstMiss = this.state != WakeUpListener.Notifications.DO_NOT_ARRIVE;
        this.state = WakeUpListener.Notifications.DO_NOT_ARRIVE;
        boolean behindPooler = ConnectionPoolerCheck.handshakeAnsweredByAnother(listening);
        if (!behindPooler) {
            this.probingAgain = true;
            this.nextSendNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.retryMillis);
        }
        String consequence = behindPooler
                ? "The listening connection goes through a pooler (the server process its start-up handshake named"
                        + " does not run its queries), so the listener stops listening (UNLISTEN) and does not listen"
                        + " again until the application restarts."
                : ("The listening connection goes to PostgreSQL directly, so the listener keeps listening and sends"
                                + " another test notification in %d ms, then at growing intervals up to %d s.")
                        .formatted(this.retryMillis, MAX_RETRY_MILLIS / 1000);
        if (firstMiss || behindPooler) {
            log.warn(
                    "Outbox: wake-up notifications for table '{}' do not reach this instance: the listener's test"
                            + " notification did not arrive within {} s. Behind a connection pooler in transaction"
                            + " mode (such as PgBouncer with pool_mode=transaction), LISTEN holds on the server"
                            + " connection it ran on, whose notifications go to whatever client uses that connection"
                            + " next, not to this listener; a database too busy to deliver them in time delays them"
                            + " as well. {} The relay finds rows written by other instances at its poll interval"
                            + " (outbox.relay.poll-interval) meanwhile. Behind a pooler, turn the wake-ups off"
                            + " (outbox.relay.notify.enabled=false), or give the listener a connection that goes to"
                            + " PostgreSQL directly (outbox.relay.notify.listener-url; without Spring Boot, a"
                            + " DataSource of its own).",
                    this.table,
                    this.timeout.toSeconds(),
                    consequence);
        } else {
            log.debug(
                    "Outbox: the test notification for table '{}' did not arrive within {} s again. {}",
                    this.table,
                    this.timeout.toSeconds(),
                    consequence);
        }
        this.retryMillis = Math.min(this.retryMillis * 2, MAX_RETRY_MILLIS);
        return behindPooler;
    }

    private void sendingFailed(CompletableFuture<Void> sent) {
        Throwable failure = sent.handle((ignored, ex) -> ex).join();
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        this.pending = null;
        this.nextSendNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(this.retryMillis);
        log.warn(
                "Outbox: could not check that wake-up notifications for table '{}' reach this instance: sending a"
                        + " test notification failed; trying again in {} ms: {}",
                this.table,
                this.retryMillis,
                cause.toString());
        this.retryMillis = Math.min(this.retryMillis * 2, MAX_RETRY_MILLIS);
    }
}
