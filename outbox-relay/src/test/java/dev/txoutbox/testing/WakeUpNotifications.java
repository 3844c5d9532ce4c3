package dev.txoutbox.testing;

import static org.awaitility.Awaitility.await;

import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * A database session that listens for the wake-up notifications of an outbox table, as the listener of another
 * instance would, and keeps their payloads (the senders' instance ids).
 */
public final class WakeUpNotifications implements AutoCloseable {

    private final Connection connection;

    private final PGConnection notifications;

    private final TableName table;

    private final List<String> payloads = new ArrayList<>();

    /** Listens, on a connection of the data source, until closed. */
    public WakeUpNotifications(DataSource dataSource, TableName table) {
        this.table = table;
        try {
            this.connection = dataSource.getConnection();
            this.connection.setAutoCommit(true);
            this.notifications = this.connection.unwrap(PGConnection.class);
            execute(OutboxDialects.postgres().listenForWakeUps(table));
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not listen for the wake-ups of " + table, ex);
        }
    }

    /** Waits until at least {@code count} notifications arrived and returns the payloads of all so far. */
    public List<String> awaitPayloads(int count, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(10)).until(() -> {
            receive(50);
            return this.payloads.size() >= count;
        });
        return List.copyOf(this.payloads);
    }

    /**
     * Waits for a first notification, then for more until none arrived for {@code quiet}, and returns the payloads
     * of all so far.
     */
    public List<String> payloadsUntilQuiet(Duration quiet, Duration timeout) throws SQLException {
        awaitPayloads(1, timeout);
        while (receive((int) quiet.toMillis()) > 0) {
            // more came: wait again
        }
        return List.copyOf(this.payloads);
    }

    private int receive(int timeoutMillis) throws SQLException {
        PGNotification[] received = this.notifications.getNotifications(timeoutMillis);
        if (received == null) {
            return 0;
        }
        for (PGNotification notification : received) {
            this.payloads.add(notification.getParameter());
        }
        return received.length;
    }

    private void execute(String sql) throws SQLException {
        try (Statement statement = this.connection.createStatement()) {
            statement.execute(sql);
        }
    }

    @Override
    public void close() throws SQLException {
        try {
            execute(OutboxDialects.postgres().unlistenWakeUps(this.table));
        } finally {
            this.connection.close();
        }
    }
}
