package dev.txoutbox.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.testcontainers.mysql.MySQLContainer;

/**
 * A MySQL 8.4 server in a container, started on first use and shared by the tests of this JVM; only the tests that
 * Testcontainers runs where Docker does use it.
 */
final class MySqlServer {

    /** The root user's password, for the tests' own databases. */
    static final String PASSWORD = "outbox";

    private static final AtomicInteger names = new AtomicInteger();

    private static MySQLContainer container;

    private MySqlServer() {}

    /** Creates an empty database and returns its JDBC URL. */
    static String newDatabaseUrl() {
        MySQLContainer server = container();
        String name = "test_" + names.incrementAndGet();
        try (Connection connection = DriverManager.getConnection(server.getJdbcUrl(), "root", PASSWORD);
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not create database " + name, ex);
        }
        return "jdbc:mysql://%s:%d/%s"
                .formatted(server.getHost(), server.getMappedPort(MySQLContainer.MYSQL_PORT), name);
    }

    private static synchronized MySQLContainer container() {
        if (container == null) {
            MySQLContainer server = new MySQLContainer("mysql:8.4")
                    .withUsername("root")
                    .withPassword(PASSWORD)
                    .withCommand("--max-connections=1000");
            server.start();
            container = server;
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
        }
        return container;
    }
}
