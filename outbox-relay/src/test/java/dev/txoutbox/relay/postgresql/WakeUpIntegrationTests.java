package dev.txoutbox.relay.postgresql;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.WakeUpNotifications;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.AbstractDataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Wake-ups across instances, against embedded PostgreSQL: the notifier's throttle, and the listener's filter,
 * reconnection and release of its connection.
 */
@ExtendWith(OutputCaptureExtension.class)
class WakeUpIntegrationTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final String LISTENER_SESSIONS = "wake-up-listener-under-test";

    private static final TableName TABLE = new TableName(TableName.DEFAULT);

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    /** Closed in reverse order of creation: listeners and notifiers before their pools. */
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();

    private final AtomicInteger wakeUps = new AtomicInteger();

    @AfterEach
    void closeEverything() throws Exception {
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
        }
    }

    @Test
    void aBurstOfCommitsSendsFarFewerNotificationsThanCommits() throws Exception {
        OutboxStore store = OutboxTestTables.migratedStore(pool("writer"));
        WakeUpNotifier notifier = notifier(WakeUpNotifier.DEFAULT_INTERVAL);
        WakeUpNotifications received = listen();

        long first = System.nanoTime();
        for (int i = 0; i < 500; i++) {
            store.insert(event("orders", "key-" + (i % 10), "{}"));
            notifier.committed();
        }
        long burstMillis = (System.nanoTime() - first) / 1_000_000;
        List<String> payloads = received.payloadsUntilQuiet(Duration.ofMillis(500), TIMEOUT);

        assertThat(payloads).hasSizeBetween(1, 99).containsOnly(notifier.instanceId());
        assertThat(payloads.size())
                .as("at most one notification per interval, in the %d ms the burst took", burstMillis)
                .isLessThanOrEqualTo((int) (burstMillis / WakeUpNotifier.DEFAULT_INTERVAL.toMillis()) + 2);
    }

    @Test
    void aCommitDuringTheIntervalIsAnnouncedAtItsEnd() {
        WakeUpNotifier notifier = notifier(Duration.ofMillis(500));
        WakeUpNotifications received = listen();

        notifier.committed();
        received.awaitPayloads(1, TIMEOUT);
        notifier.committed();

        assertThat(received.awaitPayloads(2, TIMEOUT)).hasSize(2);
    }

    @Test
    void theListenerIgnoresItsOwnInstancesNotificationsAndWakesUpForAnothers() {
        WakeUpNotifier own = notifier(Duration.ofMillis(1));
        WakeUpNotifier other = notifier(Duration.ofMillis(1));
        WakeUpNotifications received = listen();
        WakeUpListener listener = startedListener(pool("listener"), own.instanceId());

        own.committed();
        // The listener's test notification reaches this raw listener too: wait for the own instance's wake-up itself.
        await().atMost(TIMEOUT).until(() -> received.awaitPayloads(1, TIMEOUT).contains(own.instanceId()));

        await().during(Duration.ofMillis(750)).atMost(Duration.ofSeconds(5)).until(() -> this.wakeUps.get() == 0);
        other.committed();
        await().atMost(TIMEOUT).until(() -> this.wakeUps.get() == 1);
        assertThat(listener.isListening()).isTrue();
    }

    @Test
    void eachTableHasAChannelOfItsOwnAlsoWithTheLongestName() {
        TableName longest = new TableName("x".repeat(48));
        WakeUpNotifier ofLongest =
                new WakeUpNotifier(pool("notifier"), OutboxDialects.postgres(), longest, Duration.ofMillis(1));
        this.closeables.push(ofLongest);
        WakeUpNotifier ofTable = notifier(Duration.ofMillis(1));
        WakeUpNotifications toLongest = new WakeUpNotifications(pool("other-instance"), longest);
        this.closeables.push(toLongest);
        startedListener(pool("listener"), "own");

        ofLongest.committed();

        assertThat(toLongest.awaitPayloads(1, TIMEOUT)).containsExactly(ofLongest.instanceId());
        await().during(Duration.ofMillis(750)).atMost(Duration.ofSeconds(5)).until(() -> this.wakeUps.get() == 0);
        ofTable.committed();
        await().atMost(TIMEOUT).until(() -> this.wakeUps.get() == 1);
    }

    @Test
    void whenItsConnectionIsCutTheListenerListensAgainAndIsWokenUpByLaterCommits(CapturedOutput output) {
        WakeUpNotifier other = notifier(Duration.ofMillis(1));
        WakeUpListener listener = startedListener(pool(LISTENER_SESSIONS), "own");
        JdbcClient observer = JdbcClient.create(pool("observer"));
        int cut = listeningSession(observer);

        assertThat(observer.sql("SELECT pg_terminate_backend(?)")
                        .param(cut)
                        .query(Boolean.class)
                        .single())
                .isTrue();

        await().atMost(TIMEOUT).until(() -> listeningSessionOtherThan(observer, cut) && listener.isListening());
        assertThat(this.wakeUps.get())
                .as("woken up once for what may have been committed while it did not listen")
                .isEqualTo(1);
        other.committed();
        await().atMost(TIMEOUT).until(() -> this.wakeUps.get() == 2);
        assertThat(output.getOut())
                .containsOnlyOnce("listening for wake-ups of table 'outbox_event' failed")
                .containsOnlyOnce("listening for wake-ups of table 'outbox_event' again");
    }

    @Test
    void stoppingTheListenerGivesItsConnectionBackNoLongerListening() {
        HikariDataSource pool = pool(LISTENER_SESSIONS);
        WakeUpListener listener = startedListener(pool, "own");
        JdbcClient observer = JdbcClient.create(pool("observer"));
        listeningSession(observer);
        // Its test notification, sent on a thread of its own, is done: it would borrow the given-back connection.
        await().atMost(TIMEOUT).until(() -> listener.notifications() == WakeUpListener.Notifications.ARRIVE);

        listener.stop();

        assertThat(listener.isRunning()).isFalse();
        assertThat(listener.isListening()).isFalse();
        // The test notification borrows a connection of the pool for a moment, on a thread of its own.
        await().atMost(TIMEOUT).until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 0);
        // The listener's test notification went out on a session of its own, which did not listen.
        assertThat(observer.sql("SELECT query FROM pg_stat_activity WHERE application_name = ?"
                                + " AND query NOT LIKE 'SELECT pg_notify%'")
                        .param(LISTENER_SESSIONS)
                        .query(String.class)
                        .list())
                .as("the last statement of the pooled session")
                .containsExactly("UNLISTEN outbox_event_wake_up");
    }

    @Test
    void connectionsOfAnotherDriverLeaveTheListenerIdleAndSayWhy(CapturedOutput output) {
        HikariDataSource pool = pool(LISTENER_SESSIONS);
        WakeUpListener listener = new WakeUpListener(
                notPostgresDriver(pool), OutboxDialects.postgres(), TABLE, "own", this.wakeUps::incrementAndGet);
        this.closeables.push(listener::stop);

        listener.start();

        await().atMost(TIMEOUT).until(() -> output.getOut().contains("does not listen for wake-ups"));
        assertThat(output.getOut()).contains("are not the PostgreSQL JDBC driver's");
        assertThat(listener.isListening()).isFalse();
        await().atMost(TIMEOUT).until(() -> pool.getHikariPoolMXBean().getActiveConnections() == 0);
    }

    @Test
    void aFailingNotificationNeverReachesTheCallerAndIsLoggedOnceAMinute(CapturedOutput output) {
        AtomicInteger attempts = new AtomicInteger();
        DataSource unreachable = new AbstractDataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                attempts.incrementAndGet();
                throw new SQLException("Connection refused");
            }

            @Override
            public Connection getConnection(String username, String password) throws SQLException {
                return getConnection();
            }
        };
        WakeUpNotifier notifier =
                new WakeUpNotifier(unreachable, OutboxDialects.postgres(), TABLE, Duration.ofMillis(1));
        this.closeables.push(notifier);

        for (int attempt = 1; attempt <= 3; attempt++) {
            notifier.committed();
            int expected = attempt;
            await().atMost(TIMEOUT).until(() -> attempts.get() == expected);
        }

        await().atMost(TIMEOUT).until(() -> output.getOut().contains("Connection refused"));
        assertThat(output.getOut())
                .containsOnlyOnce("sending wake-up notifications for table 'outbox_event' fails")
                .containsOnlyOnce("Connection refused");
    }

    @Test
    void anIntervalThatIsNotPositiveIsRefusedNamingTheArgument() {
        DataSource dataSource = pool("writer");
        for (Duration interval : List.of(Duration.ZERO, Duration.ofMillis(-5))) {
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> new WakeUpNotifier(dataSource, OutboxDialects.postgres(), TABLE, interval))
                    .withMessageContaining("WakeUpNotifier interval=" + interval.toMillis() + "ms")
                    .withMessageContaining("positive duration");
        }
    }

    private WakeUpNotifier notifier(Duration interval) {
        WakeUpNotifier notifier = new WakeUpNotifier(pool("notifier"), OutboxDialects.postgres(), TABLE, interval);
        this.closeables.push(notifier);
        return notifier;
    }

    private WakeUpNotifications listen() {
        WakeUpNotifications notifications = new WakeUpNotifications(pool("other-instance"), TABLE);
        this.closeables.push(notifications);
        return notifications;
    }

    private WakeUpListener startedListener(DataSource dataSource, String ownInstanceId) {
        WakeUpListener listener = new WakeUpListener(
                dataSource, OutboxDialects.postgres(), TABLE, ownInstanceId, this.wakeUps::incrementAndGet);
        this.closeables.push(listener::stop);
        listener.start();
        await().atMost(TIMEOUT).until(listener::isListening);
        return listener;
    }

    private HikariDataSource pool(String applicationName) {
        HikariDataSource pool = EmbeddedInfrastructure.dataSource(this.databaseUrl, applicationName);
        this.closeables.push(pool);
        return pool;
    }

    /** The process id of the session that listens for wake-ups; waits for it. */
    private static int listeningSession(JdbcClient observer) {
        await().atMost(TIMEOUT).until(() -> listeningSessions(observer).size() == 1);
        return listeningSessions(observer).get(0);
    }

    private static boolean listeningSessionOtherThan(JdbcClient observer, int pid) {
        List<Integer> sessions = listeningSessions(observer);
        return sessions.size() == 1 && sessions.get(0) != pid;
    }

    private static List<Integer> listeningSessions(JdbcClient observer) {
        return observer.sql("SELECT pid FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN %'")
                .param(LISTENER_SESSIONS)
                .query(Integer.class)
                .list();
    }

    /** The pool's connections, as a driver other than PostgreSQL's would hand them out: they unwrap to nothing. */
    private static DataSource notPostgresDriver(DataSource pool) {
        return new DelegatingDataSource(pool) {
            @Override
            public Connection getConnection() throws SQLException {
                Connection connection = super.getConnection();
                return (Connection) Proxy.newProxyInstance(
                        getClass().getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                            if (method.getName().equals("isWrapperFor")) {
                                return false;
                            }
                            if (method.getName().equals("unwrap")) {
                                throw new SQLException("not a wrapper");
                            }
                            try {
                                return method.invoke(connection, args);
                            } catch (InvocationTargetException ex) {
                                throw ex.getCause();
                            }
                        });
            }
        };
    }
}
