package dev.txoutbox.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.jdbc.PreferQueryMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.util.ClassUtils;

/**
 * Finds out whether a {@link DataSource}'s connections go through a connection pooler in transaction (or statement)
 * mode, such as PgBouncer with {@code pool_mode=transaction}, and whether its JDBC driver would use server-side
 * prepared statements there, which such a pooler breaks: a statement prepared on one server connection is executed
 * on another ({@code prepared statement "S_1" does not exist}), or one client's statement names collide with
 * another's on the same server connection ({@code prepared statement "S_2" already exists}).
 *
 * <p>The check holds two connections open at once and runs {@code SELECT pg_backend_pid()} in a transaction of its
 * own on each, in turns. Two open direct connections never share a server process, and a pooler in session mode
 * never hands the server connection of a connected client to another one; so when both connections' transactions ran
 * on the same server process, or one connection's transactions ran on two, the connections go through a pooler in
 * transaction or statement mode. A pooler hands a client the server connection that another one just gave back, so
 * this shows at the first rounds; when a few rounds show neither, the check reports that it saw no such pooler, which
 * is the answer for direct connections. It can give no false positive.
 *
 * <p>The Spring Boot starter runs {@link #verify(DataSource)} at start-up; an application without it can call it
 * before it uses the outbox.
 */
public final class ConnectionPoolerCheck {

    private static final Logger log = LoggerFactory.getLogger(ConnectionPoolerCheck.class);

    private static final String PG_CONNECTION = "org.postgresql.PGConnection";

    /** How many rounds of one transaction on each connection the check runs at most. */
    private static final int ROUNDS = 5;

    private static final int QUERY_TIMEOUT_SECONDS = 5;

    private static final Pattern CREDENTIALS = Pattern.compile("(?i)([?&;](password|sslpassword|sslkey)=)[^&;]*");

    private static final Pattern USER_INFO = Pattern.compile("//[^/@?]*@");

    private ConnectionPoolerCheck() {}

    /** What the check saw of a data source's connections. */
    public enum Pooling {
        /** The connections go through a pooler in transaction or statement mode. */
        TRANSACTION,
        /** Nothing showed such a pooler: direct connections, or a pooler in session mode. */
        NOT_SEEN,
        /** The check could not tell, such as when the connections are not the PostgreSQL JDBC driver's. */
        UNKNOWN
    }

    /**
     * What the check found.
     *
     * @param pooling whether the connections go through a pooler in transaction mode
     * @param url the JDBC URL of the connections, without credentials; empty when unknown
     * @param prepareThreshold the driver's {@code prepareThreshold}: after how many executions of a statement it
     *     prepares the statement on the server; 0 means never
     * @param serverPreparedStatements whether the driver would use server-side prepared statements (a positive
     *     {@code prepareThreshold}, and a query mode other than {@code simple})
     * @param evidence what showed the pooling, or why the check could not tell
     */
    public record Result(
            Pooling pooling, String url, int prepareThreshold, boolean serverPreparedStatements, String evidence) {

        public Result {
            Objects.requireNonNull(pooling, "pooling");
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(evidence, "evidence");
        }

        /** Whether server-side prepared statements would go through a pooler in transaction mode. */
        public boolean preparedStatementsBreak() {
            return this.pooling == Pooling.TRANSACTION && this.serverPreparedStatements;
        }
    }

    /**
     * Looks at the data source's connections; borrows two of them at once for a moment. Never throws: a failure makes
     * the result {@link Pooling#UNKNOWN}.
     */
    public static Result inspect(DataSource dataSource) {
        if (!ClassUtils.isPresent(PG_CONNECTION, ConnectionPoolerCheck.class.getClassLoader())) {
            return unknown("", "the PostgreSQL JDBC driver (%s) is not on the class path".formatted(PG_CONNECTION));
        }
        String url = "";
        try (Connection first = dataSource.getConnection()) {
            url = withoutCredentials(first.getMetaData().getURL());
            if (!first.isWrapperFor(PGConnection.class)) {
                return unknown(
                        url, "the connections are not the PostgreSQL JDBC driver's (%s)".formatted(PG_CONNECTION));
            }
            PGConnection driver = first.unwrap(PGConnection.class);
            int threshold = driver.getPrepareThreshold();
            boolean prepared = threshold > 0 && driver.getPreferQueryMode() != PreferQueryMode.SIMPLE;
            try (Connection second = dataSource.getConnection()) {
                String evidence = transactionPooling(first, second);
                return new Result(
                        evidence != null ? Pooling.TRANSACTION : Pooling.NOT_SEEN,
                        url,
                        threshold,
                        prepared,
                        evidence != null
                                ? evidence
                                : "two connections held open at once ran %d transactions each, each connection on a"
                                                .formatted(ROUNDS)
                                        + " server process of its own");
            }
        } catch (SQLException | RuntimeException ex) {
            return unknown(url, "looking at two of its connections failed: " + ex);
        }
    }

    /**
     * Fails when the data source's connections go through a pooler in transaction mode and the driver would use
     * server-side prepared statements there; logs what it found otherwise.
     *
     * @return what the check found
     * @throws PreparedStatementsBehindPoolerException when server-side prepared statements would go through a pooler
     *     in transaction mode
     */
    public static Result verify(DataSource dataSource) {
        Result result = inspect(dataSource);
        if (result.preparedStatementsBreak()) {
            throw new PreparedStatementsBehindPoolerException(result);
        }
        log(result);
        return result;
    }

    /** Logs what the check found: the pooler at INFO, an inconclusive check at INFO, no pooler at DEBUG. */
    public static void log(Result result) {
        switch (result.pooling()) {
            case TRANSACTION ->
                log.info(
                        "Outbox: the connections of {} go through a connection pooler in transaction mode ({});"
                                + " server-side prepared statements: {} (prepareThreshold={})",
                        result.url(),
                        result.evidence(),
                        result.serverPreparedStatements() ? "on, the pooler is said to keep them" : "off",
                        result.prepareThreshold());
            case NOT_SEEN ->
                log.debug(
                        "Outbox: no connection pooler in transaction mode in front of {}: {}",
                        result.url(),
                        result.evidence());
            case UNKNOWN ->
                log.info(
                        "Outbox: could not tell whether the connections of {} go through a connection pooler in"
                                + " transaction mode, since {}. Behind such a pooler (PgBouncer with"
                                + " pool_mode=transaction), add prepareThreshold=0 to the JDBC URL.",
                        result.url().isEmpty() ? "the DataSource" : result.url(),
                        result.evidence());
        }
    }

    /** Runs a transaction on each connection in turns; says what showed a pooler in transaction mode, or null. */
    private static @Nullable String transactionPooling(Connection first, Connection second) throws SQLException {
        boolean firstAutoCommit = first.getAutoCommit();
        boolean secondAutoCommit = second.getAutoCommit();
        // Each query must be a transaction of its own, after which a pooler in transaction mode takes the server back.
        first.setAutoCommit(true);
        second.setAutoCommit(true);
        try {
            Set<Integer> firstPids = new LinkedHashSet<>();
            Set<Integer> secondPids = new LinkedHashSet<>();
            for (int round = 0; round < ROUNDS; round++) {
                int firstPid = backendPid(first);
                firstPids.add(firstPid);
                if (secondPids.contains(firstPid)) {
                    return sharedEvidence(firstPid);
                }
                int secondPid = backendPid(second);
                secondPids.add(secondPid);
                if (firstPids.contains(secondPid)) {
                    return sharedEvidence(secondPid);
                }
                if (firstPids.size() > 1) {
                    return movedEvidence(firstPids);
                }
                if (secondPids.size() > 1) {
                    return movedEvidence(secondPids);
                }
            }
            return null;
        } finally {
            first.setAutoCommit(firstAutoCommit);
            second.setAutoCommit(secondAutoCommit);
        }
    }

    private static String sharedEvidence(int pid) {
        return ("two connections held open at once ran their transactions on the same server process"
                        + " (pg_backend_pid() %d), which direct connections and a pooler in session mode never do")
                .formatted(pid);
    }

    private static String movedEvidence(Set<Integer> pids) {
        return ("one connection ran its transactions on different server processes (pg_backend_pid() %s), which"
                        + " direct connections and a pooler in session mode never do")
                .formatted(pids);
    }

    private static int backendPid(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            try (ResultSet rows = statement.executeQuery("SELECT pg_backend_pid()")) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    private static Result unknown(String url, String reason) {
        return new Result(Pooling.UNKNOWN, url, 0, false, reason);
    }

    /** The JDBC URL without a password or key in its parameters, nor user information before its host. */
    static String withoutCredentials(@Nullable String url) {
        if (url == null) {
            return "";
        }
        return USER_INFO.matcher(CREDENTIALS.matcher(url).replaceAll("$1***")).replaceAll("//***@");
    }
}
