package dev.txoutbox.store;

import java.util.Objects;

/**
 * Thrown by {@link ConnectionPoolerCheck#verify(javax.sql.DataSource)}, and by
 * {@link ConnectionPoolerCheck#verify(javax.sql.DataSource, boolean)} when the pooler is not said to keep prepared
 * statements, when a data source's connections go through a connection pooler in transaction mode and the PostgreSQL
 * JDBC driver would prepare statements on the server: the pooler would run them on server connections that do not
 * have them, or that have another client's statements of the same name, and the outbox's migrations, writes and relay
 * would fail at random.
 */
public final class PreparedStatementsBehindPoolerException extends IllegalStateException {

    private final ConnectionPoolerCheck.Result result;

    /** @param result what the check found */
    public PreparedStatementsBehindPoolerException(ConnectionPoolerCheck.Result result) {
        super(("The connections of %s go through a connection pooler in transaction mode (%s), and the PostgreSQL JDBC"
                        + " driver would prepare statements on the server (prepareThreshold=%d), which such a pooler"
                        + " breaks: statements fail with 'prepared statement \"S_1\" does not exist' or 'already"
                        + " exists', and a relay that fails after sending publishes its records again. Add"
                        + " prepareThreshold=0 to the JDBC URL, or use a pooler that keeps prepared statements per"
                        + " client (PgBouncer 1.21 or later with max_prepared_statements above 0).")
                .formatted(
                        Objects.requireNonNull(result, "result").url(), result.evidence(), result.prepareThreshold()));
        this.result = result;
    }

    /** What the check found. */
    public ConnectionPoolerCheck.Result getResult() {
        return this.result;
    }
}
