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
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.core.simple.JdbcClient;

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
        for (AutoCloseable closeable : this.closeables) {
            closeable.close();
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
        assertThat(output).contains("wake-up notifications for table 'outbox_event' reach this instance");
        assertThat(output).doesNotContain("do not reach this instance");
    }

    @Test
    void afterItConnectedAgainTheListenerChecksAgainThatNotificationsArrive(CapturedOutput output) {
        WakeUpListener listener = startedListener(pool(this.databaseUrl), "own");
        await().atMost(TIMEOUT).until(() -> listener.notifications() == Notifications.ARRIVE);
        JdbcClient observer = JdbcClient.create(pool(this.databaseUrl));

        int cut = observer.sql(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'")
                .query(Integer.class)
                .single();

        assertThat(cut).as("the listening session was cut").isEqualTo(1);
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
        assertThat(listener.isListening()).isTrue();
        assertThat(output)
                .contains("WARN")
                .contains("wake-up notifications for table 'outbox_event' do not reach this instance")
                .contains("pool_mode=transaction")
                .contains("outbox.relay.poll-interval")
                .contains("outbox.relay.notify.enabled=false");
    }

    private WakeUpListener startedListener(DataSource dataSource, String ownInstanceId) {
        WakeUpListener listener = new WakeUpListener(
                dataSource, OutboxDialects.postgres(), TABLE, ownInstanceId, this.wakeUps::incrementAndGet);
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
