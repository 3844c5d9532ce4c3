package dev.txoutbox.autoconfigure;

import dev.txoutbox.store.OutboxTableMissingException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a missing outbox table at start-up and how to create it. */
final class OutboxTableMissingFailureAnalyzer extends AbstractFailureAnalyzer<OutboxTableMissingException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, OutboxTableMissingException cause) {
        String table = cause.getTable().value();
        return new FailureAnalysis(
                "The outbox's table '%s' does not exist in the application's database (or cannot be read by its user)."
                        .formatted(cause.getMissing()),
                ("Let the starter create it: remove outbox.migration.enabled=false (migrations are on by default)."
                                + " Or apply its migrations yourself: they are the scripts under db/outbox/postgresql"
                                + " in outbox-relay.jar, with ${outbox_table} replaced by '%s'. Or point outbox.table"
                                + " at the table you created.")
                        .formatted(table),
                cause);
    }
}
