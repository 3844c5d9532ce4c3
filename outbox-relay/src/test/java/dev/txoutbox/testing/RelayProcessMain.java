package dev.txoutbox.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxRecord;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * A relay as a process of its own, built as an application without Spring Boot would build it, so that a test can
 * kill it as an operating system kills a process: {@code RelayProcessMain <jdbc-url> <bootstrap-servers> [log]}. It
 * relays the default outbox table of the database the URL names (PostgreSQL or MariaDB, whose driver is on the test
 * class path) with the default settings until it is killed, and prints {@value #STARTED} once its relay has started.
 * With {@value #LOG_MODE} it reads the table's commits from PostgreSQL's log, through the slot of
 * {@link LogMode#log}.
 */
public final class RelayProcessMain {

    /** The line printed once the relay has started. */
    public static final String STARTED = "relay process started";

    /** The last argument that starts the relay in log mode. */
    public static final String LOG_MODE = "log";

    /** The application name of the process's database sessions. */
    public static final String SESSIONS = "outbox-relay-process";

    private RelayProcessMain() {}

    /** Starts the relay on the database and broker that the arguments name, and runs until killed. */
    public static void main(String[] args) throws InterruptedException {
        boolean logMode = args.length == 3 && LOG_MODE.equals(args[2]);
        if (args.length != 2 && !logMode) {
            throw new IllegalArgumentException(
                    "Usage: RelayProcessMain <jdbc-url> <bootstrap-servers> [log], given " + String.join(" ", args));
        }
        HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(args[0], SESSIONS);
        OutboxStore store =
                new OutboxStore(dataSource, OutboxDialects.detect(dataSource), new TableName(TableName.DEFAULT));
        RelaySettings settings = RelaySettings.defaults();
        KafkaRecordPublisher publisher =
                KafkaRecordPublisher.create(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]), settings);
        OutboxRelay relay = logMode
                ? LogMode.relay(LogMode.withoutKeyLocks(store), slowAcknowledgements(publisher), settings)
                : new OutboxRelay(store, slowAcknowledgements(publisher), settings);
        relay.start();
        System.out.println(STARTED);
        System.out.flush();
        // The relay's threads are daemons: this thread keeps the process alive until it is killed.
        Thread.currentThread().join();
    }

    /**
     * The publisher, with each acknowledgement handed to the relay a moment after the broker gave it, as from a
     * broker far away: every batch then has records on the topic whose rows are not deleted yet for long enough that
     * a test can catch the process there, however busy the machine is.
     */
    private static RecordPublisher slowAcknowledgements(RecordPublisher publisher) {
        Executor later = CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS);
        return new ForwardingRecordPublisher(publisher) {
            @Override
            public CompletableFuture<?> publish(OutboxRecord record) {
                return super.publish(record).thenApplyAsync(acknowledged -> acknowledged, later);
            }
        };
    }
}
