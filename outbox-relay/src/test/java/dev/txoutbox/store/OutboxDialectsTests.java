package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** Which databases the outbox accepts, as their JDBC metadata describe them. */
class OutboxDialectsTests {

    @Test
    void acceptsPostgresFromItsMinimumVersion() throws SQLException {
        assertThat(OutboxDialects.detect(database("PostgreSQL", "12.22", 12)).productName())
                .isEqualTo("PostgreSQL");
    }

    @Test
    void refusesAnOlderPostgresAndSaysWhatItNeeds() throws SQLException {
        assertThatThrownBy(() -> OutboxDialects.detect(database("PostgreSQL", "11.22", 11)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs PostgreSQL 12 or later, but the database is PostgreSQL 11.22."
                        + " Upgrade the database.");
    }

    @Test
    void refusesAnotherProductAndNamesTheSupportedOnes() throws SQLException {
        assertThatThrownBy(() -> OutboxDialects.detect(database("H2", "2.3.232", 2)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox does not support the database 'H2'. Supported: [PostgreSQL].");
    }

    private static DataSource database(String product, String version, int majorVersion) throws SQLException {
        DatabaseMetaData metaData = mock(DatabaseMetaData.class);
        given(metaData.getDatabaseProductName()).willReturn(product);
        given(metaData.getDatabaseProductVersion()).willReturn(version);
        given(metaData.getDatabaseMajorVersion()).willReturn(majorVersion);
        Connection connection = mock(Connection.class);
        given(connection.getMetaData()).willReturn(metaData);
        DataSource dataSource = mock(DataSource.class);
        given(dataSource.getConnection()).willReturn(connection);
        return dataSource;
    }
}
