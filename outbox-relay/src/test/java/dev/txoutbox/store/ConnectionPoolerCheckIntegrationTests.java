package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.ConnectionPoolerCheck.Pooling;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.springframework.jdbc.datasource.AbstractDataSource;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * The pooler check against the embedded PostgreSQL server, directly and through a real PgBouncer in either mode
 * (skipped where PgBouncer is not installed).
 */
class ConnectionPoolerCheckIntegrationTests {

    private final String databaseUrl = EmbeddedInfrastructure.newDatabaseUrl();

    @Test
    void directConnectionsShowNoPooler() {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "pooler-check")) {
            ConnectionPoolerCheck.Result result = ConnectionPoolerCheck.verify(direct);

            assertThat(result.pooling()).isEqualTo(Pooling.NOT_SEEN);
            assertThat(result.serverPreparedStatements())
                    .as("the driver's default prepareThreshold")
                    .isTrue();
        }
    }

    @Test
    void pgBouncerInTransactionModeIsDetectedAndServerPreparedStatementsFailTheCheckNamingTheFix() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
                HikariDataSource pooled =
                        EmbeddedInfrastructure.dataSource(bouncer.jdbcUrl(this.databaseUrl), "pooler-check")) {
            assertThat(ConnectionPoolerCheck.inspect(pooled).pooling())
                    .as(bouncer.log())
                    .isEqualTo(Pooling.TRANSACTION);
            assertThatThrownBy(() -> ConnectionPoolerCheck.verify(pooled))
                    .isInstanceOf(PreparedStatementsBehindPoolerException.class)
                    .hasMessageContaining("127.0.0.1:")
                    .hasMessageContaining("pool")
                    .hasMessageContaining("prepareThreshold=5")
                    .hasMessageContaining("Add prepareThreshold=0 to the JDBC URL")
                    .hasMessageContaining("max_prepared_statements");
        }
    }

    @Test
    void pgBouncerInTransactionModeWithPrepareThresholdZeroPassesTheCheck() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
                HikariDataSource pooled = EmbeddedInfrastructure.dataSource(
                        bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"), "pooler-check")) {
            ConnectionPoolerCheck.Result result = ConnectionPoolerCheck.verify(pooled);

            assertThat(result.pooling()).isEqualTo(Pooling.TRANSACTION);
            assertThat(result.prepareThreshold()).isZero();
            assertThat(result.url()).contains("prepareThreshold=0");
        }
    }

    @Test
    void pgBouncerInTransactionModeWithPrepareThresholdMinusOneFailsTheCheck() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
                HikariDataSource pooled = EmbeddedInfrastructure.dataSource(
                        bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=-1"), "pooler-check")) {
            assertThatThrownBy(() -> ConnectionPoolerCheck.verify(pooled))
                    .as(bouncer.log())
                    .isInstanceOf(PreparedStatementsBehindPoolerException.class)
                    .hasMessageContaining("prepareThreshold=-1");
        }
    }

    @Test
    void theHandshakeNamesTheServerProcessOfADirectConnectionButNotThroughPgBouncer() throws SQLException {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "pooler-check");
                Connection connection = direct.getConnection()) {
            assertThat(connection.unwrap(PGConnection.class).getBackendPID()).isEqualTo(backendPid(connection));
        }
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.SESSION);
                HikariDataSource pooled =
                        EmbeddedInfrastructure.dataSource(bouncer.jdbcUrl(this.databaseUrl), "pooler-check");
                Connection connection = pooled.getConnection()) {
            assertThat(connection.unwrap(PGConnection.class).getBackendPID())
                    .as("PgBouncer answers the handshake with a process key of its own (%s)", bouncer.version())
                    .isNotEqualTo(backendPid(connection));
        }
    }

    @Test
    void aDirectConnectionHandedOutAgainAndAgainShowsNoPoolerWithoutASecondConnection() {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "pooler-check");
                Connection only = direct.getConnection()) {
            SingleConnectionDataSource single = new SingleConnectionDataSource(only, true);

            assertThat(ConnectionPoolerCheck.verify(single).pooling()).isEqualTo(Pooling.NOT_SEEN);
        } catch (SQLException ex) {
            throw new IllegalStateException(ex);
        }
    }

    @Test
    void aDirectPoolOfOneConnectionShowsNoPoolerWithoutWaitingForASecondConnection() {
        try (HikariDataSource direct = EmbeddedInfrastructure.dataSource(this.databaseUrl, "pooler-check")) {
            direct.setMaximumPoolSize(1);
            direct.setConnectionTimeout(Duration.ofMinutes(5).toMillis());

            assertThat(ConnectionPoolerCheck.verify(direct).pooling()).isEqualTo(Pooling.NOT_SEEN);
        }
    }

    @Test
    void throughPgBouncerTheSameConnectionHandedOutTwiceCannotTell() throws SQLException {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
                HikariDataSource pooled = EmbeddedInfrastructure.dataSource(
                        bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"), "pooler-check");
                Connection only = pooled.getConnection()) {
            ConnectionPoolerCheck.Result result =
                    ConnectionPoolerCheck.verify(new SingleConnectionDataSource(only, true));

            assertThat(result.pooling()).isEqualTo(Pooling.UNKNOWN);
            assertThat(result.evidence()).contains("same connection twice");
        }
    }

    @Test
    void throughPgBouncerAPoolOfOneConnectionCannotTellAndDoesNotWaitForItsBorrowTimeout() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.TRANSACTION);
                HikariDataSource pooled = EmbeddedInfrastructure.dataSource(
                        bouncer.jdbcUrl(this.databaseUrl, "prepareThreshold=0"), "pooler-check")) {
            pooled.setMaximumPoolSize(1);
            pooled.setConnectionTimeout(Duration.ofMinutes(10).toMillis());

            ConnectionPoolerCheck.Result result =
                    assertTimeoutPreemptively(Duration.ofMinutes(2), () -> ConnectionPoolerCheck.verify(pooled));

            assertThat(result.pooling()).isEqualTo(Pooling.UNKNOWN);
            assertThat(result.evidence()).contains("no second one came");
        }
    }

    @Test
    void pgBouncerInSessionModeIsNotMistakenForTransactionMode() {
        try (PgBouncer bouncer = PgBouncer.start(PoolMode.SESSION);
                HikariDataSource pooled =
                        EmbeddedInfrastructure.dataSource(bouncer.jdbcUrl(this.databaseUrl), "pooler-check")) {
            assertThat(ConnectionPoolerCheck.verify(pooled).pooling())
                    .as(bouncer.log())
                    .isEqualTo(Pooling.NOT_SEEN);
        }
    }

    @Test
    void whenItCannotTellTheCheckSaysWhyAndLetsTheCallerGoOn() {
        DataSource unreachable = new AbstractDataSource() {
            @Override
            public Connection getConnection() throws SQLException {
                throw new SQLException("Connection to db:6432 refused");
            }

            @Override
            public Connection getConnection(String username, String password) throws SQLException {
                return getConnection();
            }
        };

        ConnectionPoolerCheck.Result result = ConnectionPoolerCheck.verify(unreachable);

        assertThat(result.pooling()).isEqualTo(Pooling.UNKNOWN);
        assertThat(result.evidence()).contains("Connection to db:6432 refused");
        assertThat(result.preparedStatementsBreak()).isFalse();
    }

    private static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
            rows.next();
            return rows.getInt(1);
        }
    }
}
