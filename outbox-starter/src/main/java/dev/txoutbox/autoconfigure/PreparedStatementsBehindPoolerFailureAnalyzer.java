package dev.txoutbox.autoconfigure;

import dev.txoutbox.internal.JdbcUrls;
import dev.txoutbox.store.ConnectionPoolerCheck;
import dev.txoutbox.store.PreparedStatementsBehindPoolerException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a pooler in transaction mode in front of a driver that would prepare statements on the server. */
final class PreparedStatementsBehindPoolerFailureAnalyzer
        extends AbstractFailureAnalyzer<PreparedStatementsBehindPoolerException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, PreparedStatementsBehindPoolerException cause) {
        ConnectionPoolerCheck.Result result = cause.getResult();
        String url = result.url();
        String suggested = JdbcUrls.withoutPasswordParameters(url);
        return new FailureAnalysis(
                ("The DataSource %s goes through a connection pooler in transaction mode, such as PgBouncer with"
                                + " pool_mode=transaction: %s. The PostgreSQL JDBC driver would prepare statements on"
                                + " the server (prepareThreshold=%d), which such a pooler breaks: the outbox's"
                                + " migrations, writes and relay would fail with 'prepared statement \"S_1\" does not"
                                + " exist' or 'already exists', and records would be published twice.")
                        .formatted(url, result.evidence(), result.prepareThreshold()),
                ("Add prepareThreshold=0 to the JDBC URL of the outbox's DataSource (spring.datasource.url when"
                                + " Spring Boot creates it), as in %s%sprepareThreshold=0 with its password parameter,"
                                + " if any, put back (or set"
                                + " spring.datasource.hikari.data-source-properties.prepareThreshold=0). If the pooler"
                                + " keeps prepared statements apart per client (PgBouncer 1.21 or later with"
                                + " max_prepared_statements above 0), set outbox.pooler.keeps-prepared-statements=true."
                                + " outbox.pooler.check=false turns this check off.")
                        .formatted(suggested, suggested.contains("?") ? "&" : "?"),
                cause);
    }
}
