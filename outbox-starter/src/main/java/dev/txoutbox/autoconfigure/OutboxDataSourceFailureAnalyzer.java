package dev.txoutbox.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains why the outbox could not choose its DataSource (several and none named, or a name that is not a
 * DataSource) or refused its transaction manager, and which property to set.
 */
final class OutboxDataSourceFailureAnalyzer extends AbstractFailureAnalyzer<OutboxDataSourceException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, OutboxDataSourceException cause) {
        return new FailureAnalysis(cause.getProblem(), cause.getAction(), cause);
    }
}
