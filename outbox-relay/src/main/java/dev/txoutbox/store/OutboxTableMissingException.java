package dev.txoutbox.store;

/** Thrown at start-up when the outbox table does not exist. */
public class OutboxTableMissingException extends IllegalStateException {

    private final TableName table;

    public OutboxTableMissingException(TableName table, Throwable cause) {
        super(
                "The outbox table '%s' does not exist or cannot be read in the configured DataSource".formatted(table),
                cause);
        this.table = table;
    }

    /** The table that was looked for. */
    public TableName getTable() {
        return this.table;
    }
}
