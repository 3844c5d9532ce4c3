package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.BeanWrapper;
import org.springframework.beans.PropertyAccessorFactory;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;

/**
 * The relay's replication connections in log mode: to {@code outbox.relay.log.url} with {@code username} and {@code
 * password} where they are set, else to where the outbox's DataSource connects, with its user and password, as its
 * pool (HikariCP, a PostgreSQL data source, a {@code DriverManagerDataSource}) or {@code spring.datasource.*} tell.
 */
final class ReplicationConnections {

    private ReplicationConnections() {}

    static ReplicationSlotLog.Connector of(
            OutboxRelayLogProperties log, DataSource dataSource, @Nullable DataSourceProperties boot) {
        Credentials pool = fromPool(dataSource);
        String url = log.getUrl();
        if (url == null && pool != null) {
            url = pool.url();
        }
        if (url == null && boot != null) {
            url = boot.getUrl();
        }
        if (url == null) {
            throw InvalidOutboxProperties.invalid(
                    "outbox.relay.log.url",
                    null,
                    "Log mode opens a replication connection of its own, and the JDBC URL of the outbox's DataSource"
                            + " cannot be read from it. Set outbox.relay.log.url (with outbox.relay.log.username and"
                            + " outbox.relay.log.password) to a direct connection to the database.");
        }
        String username = log.getUsername();
        String password = log.getPassword();
        if (username == null) {
            username = pool != null && pool.username() != null
                    ? pool.username()
                    : boot != null ? boot.getUsername() : null;
        }
        if (password == null) {
            password = pool != null && pool.password() != null
                    ? pool.password()
                    : boot != null ? boot.getPassword() : null;
        }
        return ReplicationSlotLog.connector(url, username, password);
    }

    /** The URL and credentials of the pool behind a data source, when it has them as JavaBean properties. */
    private static @Nullable Credentials fromPool(DataSource dataSource) {
        Object pool = dataSource;
        try {
            if (dataSource.isWrapperFor(DataSource.class)) {
                pool = dataSource.unwrap(DataSource.class);
            }
        } catch (SQLException | RuntimeException ex) {
            pool = dataSource;
        }
        BeanWrapper properties = PropertyAccessorFactory.forBeanPropertyAccess(pool);
        String url = read(properties, "jdbcUrl");
        if (url == null) {
            url = read(properties, "url");
        }
        if (url == null) {
            return null;
        }
        String username = read(properties, "username");
        return new Credentials(
                url, username != null ? username : read(properties, "user"), read(properties, "password"));
    }

    private static @Nullable String read(BeanWrapper properties, String name) {
        if (!properties.isReadableProperty(name)) {
            return null;
        }
        try {
            Object value = properties.getPropertyValue(name);
            return value instanceof String text && !text.isEmpty() ? text : null;
        } catch (RuntimeException ex) {
            return null;
        }
    }

    private record Credentials(
            String url, @Nullable String username, @Nullable String password) {}
}
