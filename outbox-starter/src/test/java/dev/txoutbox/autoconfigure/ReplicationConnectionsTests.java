package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Where log mode's replication connections go, and as whom. */
class ReplicationConnectionsTests {

    private final String url = EmbeddedInfrastructure.newDatabaseUrl().replaceFirst("\\?.*", "");

    @Test
    void aHikariPoolGivesItsUrlAndUser() throws SQLException {
        try (HikariDataSource pool = EmbeddedInfrastructure.dataSource(this.url, "replication-test")) {
            assertThat(whoAndWhere(ReplicationConnections.of(new OutboxRelayLogProperties(), pool, null)))
                    .isEqualTo("postgres@" + database());
        }
    }

    @Test
    void aPostgresDataSourceGivesItsUrlAndUser() throws SQLException {
        PGSimpleDataSource simple = new PGSimpleDataSource();
        simple.setUrl(this.url);
        simple.setUser("postgres");
        assertThat(whoAndWhere(ReplicationConnections.of(new OutboxRelayLogProperties(), simple, null)))
                .isEqualTo("postgres@" + database());
    }

    @Test
    void theLogPropertiesWinOverThePool() throws SQLException {
        String user = "replicator_" + System.nanoTime();
        try (HikariDataSource pool = EmbeddedInfrastructure.dataSource(this.url, "replication-test")) {
            JdbcClient.create(pool)
                    .sql("CREATE ROLE " + user + " LOGIN REPLICATION")
                    .update();
            OutboxRelayLogProperties properties = new OutboxRelayLogProperties();
            properties.setUsername(user);
            assertThat(whoAndWhere(ReplicationConnections.of(properties, pool, null)))
                    .isEqualTo(user + "@" + database());
        }
    }

    @Test
    void aDataSourceThatHidesItsUrlFallsBackToSpringDatasourceProperties() throws SQLException {
        DataSourceProperties boot = new DataSourceProperties();
        boot.setUrl(this.url);
        boot.setUsername("postgres");
        assertThat(whoAndWhere(ReplicationConnections.of(new OutboxRelayLogProperties(), new OpaqueDataSource(), boot)))
                .isEqualTo("postgres@" + database());
    }

    @Test
    void withoutAnyUrlTheStartFailsNamingThePropertyToSet() {
        assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
                .isThrownBy(
                        () -> ReplicationConnections.of(new OutboxRelayLogProperties(), new OpaqueDataSource(), null))
                .withMessageContaining("outbox.relay.log.url")
                .withMessageContaining("direct connection");
    }

    private String database() {
        return this.url.substring(this.url.lastIndexOf('/') + 1);
    }

    private static String whoAndWhere(ReplicationSlotLog.Connector connector) throws SQLException {
        try (Connection connection = connector.connect();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SELECT current_user || '@' || current_database()")) {
            result.next();
            return result.getString(1);
        }
    }

    /** A data source that tells nothing of where it connects. */
    private static final class OpaqueDataSource implements DataSource {

        @Override
        public Connection getConnection() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Connection getConnection(String username, String password) {
            throw new UnsupportedOperationException();
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {}

        @Override
        public void setLoginTimeout(int seconds) {}

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> type) {
            return false;
        }
    }
}
