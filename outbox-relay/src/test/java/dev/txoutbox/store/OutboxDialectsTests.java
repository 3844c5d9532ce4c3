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
        assertThat(OutboxDialects.detect(database("PostgreSQL", "12.22", 12, 22))
                        .productName())
                .isEqualTo("PostgreSQL");
    }

    @Test
    void refusesAnOlderPostgresAndSaysWhatItNeeds() throws SQLException {
        assertThatThrownBy(() -> OutboxDialects.detect(database("PostgreSQL", "11.22", 11, 22)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs PostgreSQL 12 or later, but the database is PostgreSQL 11.22."
                        + " Upgrade the database.");
    }

    @Test
    void acceptsMariaDbFromItsMinimumMajorAndMinorVersionAndAnyLaterMajorVersion() throws SQLException {
        assertThat(OutboxDialects.detect(database("MariaDB", "10.6.21-MariaDB", 10, 6)))
                .isSameAs(OutboxDialects.mariaDb());
        assertThat(OutboxDialects.detect(database("MariaDB", "11.4.5-MariaDB", 11, 4)))
                .as("a later major version with a lower minor one")
                .isSameAs(OutboxDialects.mariaDb());
    }

    @Test
    void refusesAnOlderMariaDbNamingTheMajorAndMinorVersionItNeeds() throws SQLException {
        assertThatThrownBy(() -> OutboxDialects.detect(database("MariaDB", "10.5.27-MariaDB", 10, 5)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs MariaDB 10.6 or later, but the database is MariaDB 10.5.27-MariaDB."
                        + " Upgrade the database.");
    }

    @Test
    void acceptsMySqlEightAndRefusesFiveSeven() throws SQLException {
        assertThat(OutboxDialects.detect(database("MySQL", "8.0.36", 8, 0)).productName())
                .isEqualTo("MySQL");
        assertThat(OutboxDialects.detect(database("MySQL", "8.0.17", 8, 0)).productName())
                .isEqualTo("MySQL");
        assertThatThrownBy(() -> OutboxDialects.detect(database("MySQL", "8.0.16-log", 8, 0)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs MySQL 8.0.17 or later, but the database is MySQL 8.0.16-log. Upgrade the"
                        + " database.");
        assertThat(OutboxDialects.detect(database("MySQL", "8.4.3", 8, 4)).productName())
                .isEqualTo("MySQL");
        assertThatThrownBy(() -> OutboxDialects.detect(database("MySQL", "5.7.44", 5, 7)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs MySQL 8.0.17 or later, but the database is MySQL 5.7.44. Upgrade the"
                        + " database.");
    }

    @Test
    void aMariaDbThatMySqlsDriverReportsAsMySqlIsMariaDbOfTheVersionInItsText() throws SQLException {
        assertThat(OutboxDialects.detect(database("MySQL", "11.4.5-MariaDB", 11, 4)))
                .isSameAs(OutboxDialects.mariaDb());
        // Older servers put the version that MySQL clients expect first, which the driver takes as the version.
        assertThatThrownBy(() -> OutboxDialects.detect(database("MySQL", "5.5.5-10.5.27-MariaDB", 5, 5)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox needs MariaDB 10.6 or later, but the database is MariaDB 5.5.5-10.5.27-MariaDB."
                        + " Upgrade the database.");
        assertThat(OutboxDialects.detect(database("MySQL", "5.5.5-10.6.20-MariaDB", 5, 5)))
                .isSameAs(OutboxDialects.mariaDb());
    }

    @Test
    void refusesAnotherProductAndNamesTheSupportedOnes() throws SQLException {
        assertThatThrownBy(() -> OutboxDialects.detect(database("H2", "2.3.232", 2, 3)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("The outbox does not support the database 'H2'. Supported: [PostgreSQL, MariaDB, MySQL].");
    }

    private static DataSource database(String product, String version, int majorVersion, int minorVersion)
            throws SQLException {
        DatabaseMetaData metaData = mock(DatabaseMetaData.class);
        given(metaData.getDatabaseProductName()).willReturn(product);
        given(metaData.getDatabaseProductVersion()).willReturn(version);
        given(metaData.getDatabaseMajorVersion()).willReturn(majorVersion);
        given(metaData.getDatabaseMinorVersion()).willReturn(minorVersion);
        Connection connection = mock(Connection.class);
        given(connection.getMetaData()).willReturn(metaData);
        DataSource dataSource = mock(DataSource.class);
        given(dataSource.getConnection()).willReturn(connection);
        return dataSource;
    }
}
