package dev.txoutbox.autoconfigure;

import dev.txoutbox.internal.JdbcUrls;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The wake-up listener's own connections to {@code outbox.relay.notify.listener-url}, past a pooler in transaction
 * mode. Their user and password are {@code outbox.relay.notify.listener-username} and {@code listener-password},
 * else {@code spring.datasource.username} and {@code spring.datasource.password} as set (unless
 * {@code outbox.datasource} names a DataSource other than Boot's): an application that defines
 * its own {@code DataSource} bean has no {@code spring.datasource.url} from which Boot could determine them. A failure to connect names the URL without its password.
 */
final class ListenerDataSource extends DriverManagerDataSource {

    private final String maskedUrl;

    private ListenerDataSource(String url, @Nullable String username, @Nullable String password) {
        super(url, username, password);
        this.maskedUrl = JdbcUrls.withoutCredentials(url);
    }

    /** The listener's connections to the notify settings' URL, with the credentials they or the fallback give. */
    static DataSource of(OutboxProperties.Notify notify, @Nullable DataSourceProperties fallback) {
        String url = notify.getListenerUrl();
        if (url == null) {
            throw new IllegalArgumentException("outbox.relay.notify.listener-url is not set");
        }
        String username = notify.getListenerUsername();
        String password = notify.getListenerPassword();
        return new ListenerDataSource(
                url,
                username != null || fallback == null ? username : fallback.getUsername(),
                password != null || fallback == null ? password : fallback.getPassword());
    }

    @Override
    protected Connection getConnectionFromDriverManager(String url, Properties properties) throws SQLException {
        try {
            return super.getConnectionFromDriverManager(url, properties);
        } catch (SQLException ex) {
            String message = ex.getMessage();
            if (message == null || !message.contains(url)) {
                throw ex;
            }
            // The driver's message, and so its stack trace's, would show the password of the URL.
            throw new SQLException(
                    "outbox.relay.notify.listener-url: " + message.replace(url, this.maskedUrl),
                    ex.getSQLState(),
                    ex.getErrorCode());
        }
    }
}
