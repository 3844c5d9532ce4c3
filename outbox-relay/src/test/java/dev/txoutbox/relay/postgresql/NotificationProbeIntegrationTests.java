package dev.txoutbox.relay.postgresql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.postgresql.WakeUpListener.Notifications;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import dev.txoutbox.testing.RollingBackConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * The wake-up listener's test notification: it arrives on direct connections, and through a real PgBouncer in
 * transaction mode (skipped where PgBouncer is not installed) it does not, which the listener reports.
 */
@ExtendWith(OutputCaptureExtension.class)
class NotificationProbeIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final TableName TABLE = new TableName(TableName.DEFAULT);

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    /** Closed in reverse order of creation: listeners before their pools, pools before PgBouncer. */
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();

    private final AtomicInteger wakeUps = new AtomicInteger();

    @AfterEach
    void closeEverything() throws Exception {
        Exception failure = null;
        for (AutoCloseable closeable : this.closeables) {
            try {
                closeable.close();
            } catch (Exception ex) {
                // The others are closed all the same, and the first failure is reported with the rest attached.
                if (failure == null) {
                    failure = ex;
                } else {
                    failure.addSuppressed(ex);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Test
    void onDirectConnectionsTheListenersTestNotificationArrivesAndWakesNoRelay(CapturedOutput output) {
        WakeUpListener listener = startedListener(pool(this.databaseUrl), "own");
        WakeUpListener another = startedListener(pool(this.databaseUrl), "another");

        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);
        await().atMost(TIMEOUT).until(() -> another.notifications() == Notifications.ARRIVE);

        assertThat(this.wakeUps)
                .as("test notifications, also another instance's, wake no relay")
                .hasValue(0);
        // The state changes just before the line is logged.
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(output)
                        .contains("wake-up notifications for table 'outbox_event' reach this instance"));
        assertThat(output).doesNotContain("do not reach this instance");
    }

    @Test
    void afterItConnectedAgainTheListenerChecksAgainThatNotificationsArrive(CapturedOutput output) {
        WakeUpListener listener = startedListener(pool(this.databaseUrl), "own");
        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);
        JdbcClient observer = JdbcClient.create(pool(this.databaseUrl));

        int cut = observer.sql(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
                                + " AND datname = current_database() AND application_name = 'notification-probe'")
                .query(Integer.class)
                .single();

        assertThat(cut).as("the listening session was cut").isEqualTo(1);
        // A second "arrived" after listening again shows that the test notification was sent and checked anew.
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(output.getOut())
                        .contains("listening for wake-ups of table 'outbox_event' again")
                        .containsPattern("(?s)(reach this instance: its test notification arrived.*){2}"));
        assertThat(listener.notifications()).isEqualTo(Notifications.ARRIVE);
    }

    @Test
    void throughPgBouncerInTransactionModeTheListenerSaysThatNotificationsDoNotArriveAndWhatToDo(
            CapturedOutput output) {
        PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        this.closeables.push(bouncer);
        WakeUpListener listener = startedListener(pool(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0")), "own");

        await().atMost(TIMEOUT).until(() -> listener.notifications() != Notifications.NOT_CHECKED);

        assertThat(listener.notifications()).as(bouncer.log()).isEqualTo(Notifications.DO_NOT_ARRIVE);
        // The state changes first; the warning follows once the listener has asked who answered its handshake.
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(output)
                        .contains("WARN")
                        .contains("wake-up notifications for table 'outbox_event' do not reach this instance")
                        .contains("pool_mode=transaction")
                        .contains("stops listening (UNLISTEN) and does not listen again")
                        .contains("outbox.relay.poll-interval")
                        .contains("outbox.relay.notify.enabled=false"));
        // Listening again would leave one more server connection listening for clients that never asked.
        await().during(Duration.ofSeconds(5))
                .atMost(TIMEOUT)
                .until(() -> !listener.isListening() && listener.notifications() == Notifications.DO_NOT_ARRIVE);
        assertThat(output.getOut().split("listening for wake-ups of table 'outbox_event'", -1))
                .as("LISTEN ran once")
                .hasSize(2);
    }

    @Test
    void throughPgBouncerWithADirectListenerTheTestNotificationGoesThroughTheNotifiersPoolerAndArrives() {
        PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
        this.closeables.push(bouncer);
        AtomicInteger borrowed = new AtomicInteger();
        DataSource notifier = new DelegatingDataSource(pool(bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"))) {
            @Override
            public Connection getConnection() throws SQLException {
                borrowed.incrementAndGet();
                return super.getConnection();
            }
        };
        WakeUpListener listener = startedListener(pool(this.databaseUrl), notifier, "own");

        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);

        assertThat(borrowed)
                .as("the test notification went through the notifier's PgBouncer")
                .hasPositiveValue();
        assertThat(listener.isListening()).isTrue();
    }

    @Test
    void aTestNotificationThatCouldNotBeSentIsSentAgainUntilItArrives(CapturedOutput output) {
        HikariDataSource direct = pool(this.databaseUrl);
        AtomicInteger failures = new AtomicInteger(2);
        DataSource failingAtFirst = new DelegatingDataSource(direct) {
            @Override
            public Connection getConnection() throws SQLException {
                if (failures.getAndDecrement() > 0) {
                    throw new SQLException("Connection to db:6432 refused");
                }
                return super.getConnection();
            }
        };
        WakeUpListener listener = startedListener(pool(this.databaseUrl), failingAtFirst, "own");

        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);

        assertThat(output)
                .contains("sending a test notification failed; trying again in 1000 ms")
                .contains("sending a test notification failed; trying again in 2000 ms");
    }

    @Test
    void onADirectConnectionATestNotificationThatDoesNotArriveInTimeLeavesTheListenerListeningAndProbingAgain(
            CapturedOutput output) {
        HikariDataSource direct = pool(this.databaseUrl);
        AtomicInteger borrowed = new AtomicInteger();
        // The listener's own connection comes first; the first test notification's transaction is rolled back, so
        // that it never arrives, as when a busy database delays it past the deadline.
        DataSource droppingTheFirstProbe = new DelegatingDataSource(direct) {
            @Override
            public Connection getConnection() throws SQLException {
                Connection connection = super.getConnection();
                return borrowed.incrementAndGet() == 2 ? RollingBackConnection.of(connection) : connection;
            }
        };
        WakeUpListener listener = startedListener(droppingTheFirstProbe, "own");

        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.DO_NOT_ARRIVE);
        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);

        assertThat(listener.isListening()).isTrue();
        assertThat(output)
                .contains("do not reach this instance")
                .contains("goes to PostgreSQL directly, so the listener keeps listening and sends another test"
                        + " notification in 1000 ms")
                .doesNotContain("stops listening (UNLISTEN)");
        assertThat(output.getOut().split("listening for wake-ups of table 'outbox_event'", -1))
                .as("LISTEN ran once")
                .hasSize(2);
    }

    @Test
    void whileTheTestNotificationWaitsForAConnectionOfAnExhaustedPoolTheListenerWakesTheRelaysUp() {
        CountDownLatch probeWaiting = new CountDownLatch(1);
        CountDownLatch poolExhausted = new CountDownLatch(1);
        this.closeables.push(poolExhausted::countDown);
        DataSource exhausted = new DelegatingDataSource(pool(this.databaseUrl)) {
            @Override
            public Connection getConnection() throws SQLException {
                probeWaiting.countDown();
                try {
                    poolExhausted.await();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for a connection", ex);
                }
                return super.getConnection();
            }
        };
        HikariDataSource direct = pool(this.databaseUrl);
        WakeUpListener listener = startedListener(direct, exhausted, "own");
        await().atMost(TIMEOUT).until(() -> probeWaiting.getCount() == 0);

        await().atMost(TIMEOUT).untilAsserted(() -> {
            JdbcClient.create(direct)
                    .sql(OutboxDialects.postgres().notifyWakeUp(TABLE))
                    .param("another")
                    .query(String.class)
                    .list();
            assertThat(this.wakeUps).hasPositiveValue();
        });

        assertThat(listener.notifications()).isEqualTo(Notifications.NOT_CHECKED);
        listener.stop();
        assertThat(listener.isRunning()).isFalse();
    }

    private WakeUpListener startedListener(DataSource dataSource, String ownInstanceId) {
        return startedListener(dataSource, dataSource, ownInstanceId);
    }

    private WakeUpListener startedListener(DataSource dataSource, DataSource notifier, String ownInstanceId) {
        WakeUpListener listener = new WakeUpListener(
                dataSource, notifier, OutboxDialects.postgres(), TABLE, ownInstanceId, this.wakeUps::incrementAndGet);
        this.closeables.push(listener::stop);
        listener.start();
        await().atMost(TIMEOUT).until(listener::isListening);
        return listener;
    }

    private HikariDataSource pool(String jdbcUrl) {
        HikariDataSource pool = EmbeddedInfrastructure.dataSource(jdbcUrl, "notification-probe");
        this.closeables.push(pool);
        return pool;
    }
}
