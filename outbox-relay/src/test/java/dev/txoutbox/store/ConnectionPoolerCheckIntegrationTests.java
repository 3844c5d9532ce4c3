package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.ConnectionPoolerCheck.Pooling;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.PgBouncer;
import dev.txoutbox.testing.PgBouncer.PoolMode;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.AbstractDataSource;

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

    @Test
    void theReportedUrlHasNoCredentials() {
        assertThat(ConnectionPoolerCheck.withoutCredentials(
                        "jdbc:postgresql://db:6432/app?user=app&password=s3cret&prepareThreshold=0"))
                .isEqualTo("jdbc:postgresql://db:6432/app?user=app&password=***&prepareThreshold=0");
        assertThat(ConnectionPoolerCheck.withoutCredentials("jdbc:postgresql://app:s3cret@db/app"))
                .isEqualTo("jdbc:postgresql://***@db/app");
    }
}
