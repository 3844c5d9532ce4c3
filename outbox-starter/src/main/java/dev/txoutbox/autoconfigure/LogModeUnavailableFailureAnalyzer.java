package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.postgresql.LogModeUnavailableException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains why the relay's log mode cannot run on the outbox's PostgreSQL server, and what to change. */
final class LogModeUnavailableFailureAnalyzer extends AbstractFailureAnalyzer<LogModeUnavailableException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, LogModeUnavailableException cause) {
        return new FailureAnalysis(
                "The outbox relay cannot read the write-ahead log (outbox.relay.mode=log): " + cause.getMessage(),
                "Change the server or the user as the description says; docs/log-mode.md lists what log mode needs,"
                        + " also on Amazon RDS, Aurora, Google Cloud SQL and Azure. outbox.relay.mode=poll runs the"
                        + " relay without it.",
                cause);
    }
}
