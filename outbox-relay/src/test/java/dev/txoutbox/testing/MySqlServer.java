package dev.txoutbox.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.mysql.MySQLContainer;

/**
 * The MySQL server of the tests that run on MySQL: the one that {@value #URL_PROPERTY} names (for example
 * {@code -Doutbox.test.mysql.url=jdbc:mysql://localhost:3306}, reached as root with the password that
 * {@value #PASSWORD_PROPERTY} gives, {@value #DEFAULT_PASSWORD} by default), or else a MySQL 8.4 server in a
 * container, started on first use where Docker runs and shared by the tests of this JVM.
 */
final class MySqlServer {

    /** The system property that names a running MySQL server, as a JDBC URL without a database. */
    static final String URL_PROPERTY = "outbox.test.mysql.url";

    /** The system property that gives the root password of that server. */
    static final String PASSWORD_PROPERTY = "outbox.test.mysql.password";

    private static final String DEFAULT_PASSWORD = "outbox";

    private static final String SCHEME = "jdbc:mysql://";

    /**
     * The part of this JVM's database names that tells them from those of other JVMs on a server that a property
     * names, in this build or an earlier one: the process id and the start's second.
     */
    private static final String RUN =
            ProcessHandle.current().pid() + "_" + Long.toString(System.currentTimeMillis() / 1000, 36);

    private static final AtomicInteger names = new AtomicInteger();

    private static @Nullable MySQLContainer container;

    private MySqlServer() {}

    /** Why the tests on MySQL can run here, or null when they cannot. */
    static @Nullable String availability() {
        String url = externalUrl();
        if (url != null) {
            return "MySQL at " + url + " (" + URL_PROPERTY + ")";
        }
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return "MySQL 8.4 in a container";
        }
        return null;
    }

    /** The root password of the server. */
    static String password() {
        return externalUrl() != null ? System.getProperty(PASSWORD_PROPERTY, DEFAULT_PASSWORD) : DEFAULT_PASSWORD;
    }

    /** Creates an empty database and returns its JDBC URL, with the server's parameters if the property gives some. */
    static String newDatabaseUrl() {
        String server = serverUrl();
        String name = "test_" + RUN + "_" + names.incrementAndGet();
        try (Connection connection = DriverManager.getConnection(server, "root", password());
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException ex) {
            throw new IllegalStateException("Could not create database " + name + " on " + server, ex);
        }
        int parameters = server.indexOf('?');
        return parameters < 0
                ? server + "/" + name
                : server.substring(0, parameters) + "/" + name + server.substring(parameters);
    }

    /** The server that the property names, as {@code jdbc:mysql://host:port[?parameters]}, or null. */
    private static @Nullable String externalUrl() {
        String url = System.getProperty(URL_PROPERTY, "").strip();
        if (url.isEmpty()) {
            return null;
        }
        String address = url.startsWith(SCHEME) ? url.substring(SCHEME.length()) : "";
        int start = address.indexOf('?');
        String parameters = start < 0 ? "" : address.substring(start);
        String hostAndPort = start < 0 ? address : address.substring(0, start);
        if (hostAndPort.endsWith("/")) {
            hostAndPort = hostAndPort.substring(0, hostAndPort.length() - 1);
        }
        if (hostAndPort.isEmpty() || hostAndPort.contains("/")) {
            throw new IllegalArgumentException(URL_PROPERTY + "=" + url + " is not the JDBC URL of a MySQL server"
                    + " without a database; give one like jdbc:mysql://localhost:3306, with parameters after a ?"
                    + " if the server needs some");
        }
        return SCHEME + hostAndPort + parameters;
    }

    private static String serverUrl() {
        String url = externalUrl();
        if (url != null) {
            return url;
        }
        MySQLContainer server = container();
        return "jdbc:mysql://%s:%d".formatted(server.getHost(), server.getMappedPort(MySQLContainer.MYSQL_PORT));
    }

    private static synchronized MySQLContainer container() {
        MySQLContainer started = container;
        if (started == null) {
            started = new MySQLContainer("mysql:8.4")
                    .withUsername("root")
                    .withPassword(DEFAULT_PASSWORD)
                    .withCommand("--max-connections=1000");
            started.start();
            container = started;
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop));
        }
        return started;
    }
}
