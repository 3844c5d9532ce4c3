package dev.txoutbox.relay;

import static dev.txoutbox.testing.OutboxTestTables.event;
import static dev.txoutbox.testing.Reflection.invoke;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.OutboxTestTables;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which of the relay's commits wait for their flush to disk: by default only those of cycles that recorded failed
 * sends, every one with {@code synchronousCommit}. Each commit's {@code synchronous_commit} is read on its connection
 * just before it commits. PostgreSQL only: MariaDB and MySQL have no durability setting for one transaction, their
 * commits flush as the server's {@code innodb_flush_log_at_trx_commit} says.
 */
class RelayCommitDurabilityTests {

    /** What each commit on the relay's connections ran with, in order. */
    private final List<String> commits = new CopyOnWriteArrayList<>();

    private HikariDataSource dataSource;

    private OutboxStore store;

    @BeforeEach
    void createTable() {
        this.dataSource =
                EmbeddedInfrastructure.dataSource(EmbeddedInfrastructure.newDatabaseUrl(), "relay-commit-durability");
        // The embedded server runs with synchronous_commit=off; sessions that start with another value tell a commit
        // that keeps the server's setting from one that turned it off.
        this.dataSource.addDataSourceProperty("options", "-c synchronous_commit=remote_apply");
        this.store = OutboxTestTables.migratedStore(recordingCommits(this.dataSource));
        this.commits.clear();
    }

    @AfterEach
    void closeDataSource() {
        this.dataSource.close();
    }

    @Test
    void aCycleWhoseSendsAllSucceededCommitsWithoutWaitingForTheFlush() {
        this.store.insert(event("orders", "order-1", "{}"));
        this.store.insert(event("orders", "order-2", "{}"));
        OutboxRelay relay = new OutboxRelay(
                this.store, record -> CompletableFuture.completedFuture(null), RelaySettings.defaults());

        assertThat(relay.relayOnce().published()).isEqualTo(2);

        assertThat(this.commits).containsExactly("off");
    }

    @Test
    void aCycleThatRecordedAFailedSendWaitsForTheFlushTheSessionStartedWith() {
        this.store.insert(event("orders", "order-1", "{}"));
        this.store.insert(event("orders", "order-2", "{}"));
        RecordPublisher refusingOrder1 = record -> "order-1".equals(record.key())
                ? CompletableFuture.failedFuture(new IllegalStateException("refused"))
                : CompletableFuture.completedFuture(null);
        OutboxRelay relay = new OutboxRelay(this.store, refusingOrder1, RelaySettings.defaults());

        OutboxRelay.CycleResult result = relay.relayOnce();

        assertThat(result.published()).isEqualTo(1);
        assertThat(result.failed()).isEqualTo(1);
        assertThat(this.commits).containsExactly("remote_apply");
    }

    @Test
    void withSynchronousCommitEveryCycleWaitsForTheFlush() {
        this.store.insert(event("orders", "order-1", "{}"));
        OutboxRelay relay = new OutboxRelay(
                this.store,
                record -> CompletableFuture.completedFuture(null),
                RelaySettings.builder().synchronousCommit(true).build());

        assertThat(relay.relayOnce().published()).isEqualTo(1);
        assertThat(relay.relayOnce().published())
                .as("a cycle that finds nothing")
                .isZero();

        assertThat(this.commits).containsExactly("remote_apply", "remote_apply");
    }

    /** The data source, with each commit recording the session's synchronous_commit just before it commits. */
    private DataSource recordingCommits(DataSource target) {
        return (DataSource) Proxy.newProxyInstance(
                DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, arguments) -> {
                    Object result = invoke(target, method, arguments);
                    return result instanceof Connection connection ? recordingCommits(connection) : result;
                });
    }

    private Connection recordingCommits(Connection target) {
        return (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, arguments) -> {
                    if (method.getName().equals("commit")) {
                        try (Statement show = target.createStatement();
                                ResultSet setting = show.executeQuery("SHOW synchronous_commit")) {
                            setting.next();
                            this.commits.add(setting.getString(1));
                        }
                    }
                    return invoke(target, method, arguments);
                });
    }
}
