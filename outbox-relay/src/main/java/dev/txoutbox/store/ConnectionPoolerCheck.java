package dev.txoutbox.store;

import dev.txoutbox.internal.JdbcUrls;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p>The check first compares the server process that the driver's start-up handshake named (its backend key) with
 * the one that runs a transaction on that connection ({@code pg_backend_pid()}). A direct connection names its own
 * process, so the check ends there with one connection and one round trip. PgBouncer, in either mode, and other
 * poolers that answer the handshake themselves name a process key of their own; then the check borrows a second
 * connection, waits a few seconds at most for it, holds both open and runs a transaction on each in turns, comparing
 * the server processes that ran them (server start time, address, port and process id). A pooler in session mode
 * keeps one server connection per client; when both connections ran on the same server process, or one connection
 * ran on two, they go through a pooler in transaction or statement mode. A pooler that moves one client's statements
 * between servers for reasons of its own, such as pgpool-II with statement-level load balancing, can be taken for
 * one in transaction mode: {@code keepsPreparedStatements} is for such poolers. When the check cannot tell, such as
 * when the second connection is the first one again or is not available in time, it says why.
 *
 * <p>The Spring Boot starter runs the check at start-up; an application without it can call
 * {@link #verify(DataSource)} or {@link #verify(DataSource, boolean)} before it uses the outbox.
 */
public final class ConnectionPoolerCheck {

    private static final Logger log = LoggerFactory.getLogger(ConnectionPoolerCheck.class);

    private static final String PG_CONNECTION = "org.postgresql.PGConnection";

    /** How many rounds of one transaction on each connection the check runs at most. */
    private static final int ROUNDS = 5;

    private static final int QUERY_TIMEOUT_SECONDS = 5;

    /**
     * How long the check waits for a second connection: a pool of one connection, or one that is exhausted, would
     * otherwise hold the start up for its whole borrow timeout, or for ever.
     */
    private static final Duration SECOND_CONNECTION_WAIT = Duration.ofSeconds(5);

    private static final String SERVER_PROCESS_QUERY =
            "SELECT pg_postmaster_start_time()::text, host(inet_server_addr()),"
                    + " inet_server_port(), pg_backend_pid()";

    /** A prepared statement that is gone, or whose name another client took: a pooler in transaction mode. */
    private static final Set<String> LOST_PREPARED_STATEMENT = Set.of("26000", "42P05");

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
     * @param pooling what the check saw: a pooler in transaction (or statement) mode, none, or that it could not tell,
     *     with {@code evidence} saying why
     * @param url the JDBC URL of the connections, without credentials; empty when unknown
     * @param prepareThreshold the driver's {@code prepareThreshold}: after how many executions of a statement it
     *     prepares the statement on the server; 0 means never, a negative value from the first execution on
     * @param serverPreparedStatements whether the driver would use server-side prepared statements (a
     *     {@code prepareThreshold} other than 0, and a query mode other than {@code simple})
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

    /** A server process: what tells it apart from the processes of other servers behind the same pooler. */
    record ServerProcess(
            @Nullable String startTime, @Nullable String address, int port, int pid) {

        @Override
        public String toString() {
            return "pid %d on %s:%d started %s".formatted(this.pid, this.address, this.port, this.startTime);
        }
    }

    /**
     * Looks at the data source's connections; borrows one, and a second one at once only when the first one goes
     * through something that answered the start-up handshake for the server. Never throws: a failure makes the result
     * {@link Pooling#UNKNOWN}.
     */
    public static Result inspect(DataSource dataSource) {
        if (!ClassUtils.isPresent(PG_CONNECTION, ConnectionPoolerCheck.class.getClassLoader())) {
            return unknown("", "the PostgreSQL JDBC driver (%s) is not on the class path".formatted(PG_CONNECTION));
        }
        String url = "";
        try (Connection first = dataSource.getConnection()) {
            url = JdbcUrls.withoutCredentials(first.getMetaData().getURL());
            if (!first.isWrapperFor(PGConnection.class)) {
                return unknown(
                        url, "the connections are not the PostgreSQL JDBC driver's (%s)".formatted(PG_CONNECTION));
            }
            PGConnection driver = first.unwrap(PGConnection.class);
            int threshold = driver.getPrepareThreshold();
            // A negative threshold makes the driver name every statement on the server from its first execution.
            boolean prepared = threshold != 0 && driver.getPreferQueryMode() != PreferQueryMode.SIMPLE;
            Pooled pooled = pooling(dataSource, first, driver);
            return new Result(pooled.pooling(), url, threshold, prepared, pooled.evidence());
        } catch (SQLException | RuntimeException | LinkageError ex) {
            // A LinkageError: a driver or a connection wrapper older than the methods the check calls.
            return unknown(url, "looking at its connections failed: " + ex);
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
        return verify(dataSource, false);
    }

    /**
     * Like {@link #verify(DataSource)}, for a pooler that may keep prepared statements apart per client, such as
     * PgBouncer 1.21 or later with {@code max_prepared_statements} above 0.
     *
     * @param poolerKeepsPreparedStatements whether the pooler keeps prepared statements apart per client, so that
     *     server-side prepared statements through it in transaction mode do not fail the check
     * @return what the check found
     * @throws PreparedStatementsBehindPoolerException when server-side prepared statements would go through a pooler
     *     in transaction mode that is not said to keep them
     */
    public static Result verify(DataSource dataSource, boolean poolerKeepsPreparedStatements) {
        Result result = inspect(dataSource);
        if (result.preparedStatementsBreak() && !poolerKeepsPreparedStatements) {
            throw new PreparedStatementsBehindPoolerException(result);
        }
        log(result);
        return result;
    }

    /** Logs what the check found: the pooler at INFO, an inconclusive check at INFO, no pooler at DEBUG. */
    private static void log(Result result) {
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

    /**
     * Whether something other than the server answered the connection's start-up handshake, as poolers such as
     * PgBouncer do: the server process that the handshake named is not the one that runs the connection's queries.
     * Runs one query on the connection, in its current transaction mode.
     *
     * @param connection a connection of the PostgreSQL JDBC driver
     * @return {@code true} when the connection goes through such a pooler, in any mode; {@code false} for a direct one
     * @throws SQLException when the connection is not the driver's, or the query fails
     */
    public static boolean handshakeAnsweredByAnother(Connection connection) throws SQLException {
        return answeredByAnother(connection.unwrap(PGConnection.class).getBackendPID(), serverProcess(connection));
    }

    private static boolean answeredByAnother(int handshakePid, ServerProcess process) {
        return process.pid() != handshakePid;
    }

    private record Pooled(Pooling pooling, String evidence) {}

    private static Pooled pooling(DataSource dataSource, Connection first, PGConnection driver) throws SQLException {
        boolean firstAutoCommit = first.getAutoCommit();
        // Each query must be a transaction of its own, after which a pooler in transaction mode takes the server back.
        first.setAutoCommit(true);
        try {
            int handshakePid = driver.getBackendPID();
            ServerProcess firstProcess = serverProcess(first);
            if (!answeredByAnother(handshakePid, firstProcess)) {
                return new Pooled(
                        Pooling.NOT_SEEN,
                        ("the server process that the start-up handshake named ran the connection's transaction (%s):"
                                        + " a direct connection")
                                .formatted(firstProcess));
            }
            Connection second = borrowSecond(dataSource);
            if (second == null) {
                return new Pooled(
                        Pooling.UNKNOWN,
                        ("the handshake named process %d but process %d ran the transaction, so something answers for"
                                        + " the server; telling its mode needs two connections at once, and no"
                                        + " second one came within %d seconds (a pool of one connection, or one"
                                        + " that is exhausted)")
                                .formatted(handshakePid, firstProcess.pid(), SECOND_CONNECTION_WAIT.toSeconds()));
            }
            try (second) {
                if (second.unwrap(PGConnection.class) == driver) {
                    return new Pooled(
                            Pooling.UNKNOWN,
                            "the data source handed out the same connection twice, so the check could not hold two"
                                    + " at once");
                }
                return transactionPooling(first, second, firstProcess);
            }
        } catch (SQLException ex) {
            if (LOST_PREPARED_STATEMENT.contains(ex.getSQLState())) {
                // Two clients' statements of the same name on one server connection, or one gone from it.
                return new Pooled(
                        Pooling.TRANSACTION,
                        "a statement that the driver prepared on the server for the check was gone, or its name"
                                + " taken, on the server connection that ran it (" + ex.getMessage() + ")");
            }
            throw ex;
        } finally {
            first.setAutoCommit(firstAutoCommit);
        }
    }

    /** Runs a transaction on each connection in turns; says what showed a pooler in transaction mode. */
    private static Pooled transactionPooling(Connection first, Connection second, ServerProcess firstProcess)
            throws SQLException {
        boolean secondAutoCommit = second.getAutoCommit();
        second.setAutoCommit(true);
        try {
            Set<ServerProcess> firstProcesses = new LinkedHashSet<>(List.of(firstProcess));
            Set<ServerProcess> secondProcesses = new LinkedHashSet<>();
            for (int round = 0; round < ROUNDS; round++) {
                ServerProcess secondProcess = serverProcess(second);
                secondProcesses.add(secondProcess);
                if (firstProcesses.contains(secondProcess)) {
                    return new Pooled(Pooling.TRANSACTION, sharedEvidence(secondProcess));
                }
                ServerProcess next = serverProcess(first);
                firstProcesses.add(next);
                if (secondProcesses.contains(next)) {
                    return new Pooled(Pooling.TRANSACTION, sharedEvidence(next));
                }
                if (firstProcesses.size() > 1) {
                    return new Pooled(Pooling.TRANSACTION, movedEvidence(firstProcesses));
                }
                if (secondProcesses.size() > 1) {
                    return new Pooled(Pooling.TRANSACTION, movedEvidence(secondProcesses));
                }
            }
            return new Pooled(
                    Pooling.NOT_SEEN,
                    ("two connections held open at once ran %d transactions each, each connection on a server"
                                    + " process of its own")
                            .formatted(ROUNDS));
        } finally {
            second.setAutoCommit(secondAutoCommit);
        }
    }

    /** A second connection, or null when none comes in time; one that comes late is closed. */
    private static @Nullable Connection borrowSecond(DataSource dataSource) throws SQLException {
        CompletableFuture<Connection> borrowed = new CompletableFuture<>();
        Thread borrower = new Thread(
                () -> {
                    try {
                        borrowed.complete(dataSource.getConnection());
                    } catch (SQLException | RuntimeException ex) {
                        borrowed.completeExceptionally(ex);
                    }
                },
                "outbox-pooler-check");
        // A pool that never times out must not keep the JVM from ending.
        borrower.setDaemon(true);
        borrower.start();
        try {
            return borrowed.get(SECOND_CONNECTION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException ex) {
            borrowed.thenAccept(ConnectionPoolerCheck::closeQuietly);
            return null;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            borrowed.thenAccept(ConnectionPoolerCheck::closeQuietly);
            return null;
        } catch (ExecutionException ex) {
            if (ex.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw new IllegalStateException("Borrowing a second connection failed", ex.getCause());
        }
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException ex) {
            log.debug("Outbox: closing the pooler check's late second connection failed", ex);
        }
    }

    private static String sharedEvidence(ServerProcess process) {
        return ("two connections held open at once ran their transactions on the same server process (%s), which"
                        + " direct connections and a pooler in session mode never do")
                .formatted(process);
    }

    private static String movedEvidence(Set<ServerProcess> processes) {
        return ("one connection ran its transactions on different server processes (%s), which direct connections"
                        + " and a pooler in session mode never do")
                .formatted(processes);
    }

    private static ServerProcess serverProcess(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            try (ResultSet rows = statement.executeQuery(SERVER_PROCESS_QUERY)) {
                rows.next();
                return new ServerProcess(rows.getString(1), rows.getString(2), rows.getInt(3), rows.getInt(4));
            }
        }
    }

    private static Result unknown(String url, String reason) {
        return new Result(Pooling.UNKNOWN, url, 0, false, reason);
    }
}
