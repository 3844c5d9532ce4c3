package dev.txoutbox.sample;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * The embedded PostgreSQL server and Kafka broker that the one-command demo runs on. The demo's application context
 * owns them and stops them after all of its own beans, so that on Ctrl-C the relay, the Kafka listeners and the
 * connection pool stop while the servers still answer, rather than waiting out timeouts against servers that are gone.
 */
final class EmbeddedServers implements DisposableBean {

    private final EmbeddedPostgres postgres;

    private final EmbeddedKafkaKraftBroker kafka;

    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedServers(EmbeddedPostgres postgres, EmbeddedKafkaKraftBroker kafka) {
        this.postgres = postgres;
        this.kafka = kafka;
    }

    /** Starts both servers; when the broker cannot start, the database server is stopped again. */
    static EmbeddedServers start() {
        EmbeddedPostgres postgres;
        try {
            // No shutdown hook of its own: the application context stops it, after the beans that use it.
            postgres = EmbeddedPostgres.builder().setRegisterShutdownHook(false).start();
        } catch (IOException ex) {
            throw new UncheckedIOException("Could not start embedded PostgreSQL", ex);
        }
        try {
            EmbeddedKafkaKraftBroker kafka = new EmbeddedKafkaKraftBroker(1, 1);
            kafka.brokerProperty("auto.create.topics.enable", "false");
            kafka.afterPropertiesSet();
            return new EmbeddedServers(postgres, kafka);
        } catch (RuntimeException ex) {
            close(postgres);
            throw ex;
        }
    }

    /** The application's connection settings for these servers. */
    Map<String, Object> connectionProperties() {
        return Map.of(
                "spring.datasource.url",
                this.postgres.getJdbcUrl("postgres", "postgres"),
                "spring.datasource.username",
                "postgres",
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
            close(this.postgres);
        }
    }

    private static void close(EmbeddedPostgres postgres) {
        try {
            postgres.close();
        } catch (IOException ignored) {
            // The server's directory is temporary.
        }
    }
}
