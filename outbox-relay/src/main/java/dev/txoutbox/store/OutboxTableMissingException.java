package dev.txoutbox.store;

/** Thrown at start-up when the outbox table, or one of the tables named after it, does not exist. */
public class OutboxTableMissingException extends IllegalStateException {

    private final TableName table;

    private final TableName missing;

    /**
     * @param table the outbox table
     * @param missing the table that does not exist: the outbox table, or one named after it
     * @param cause the database's answer
     */
    public OutboxTableMissingException(TableName table, TableName missing, Throwable cause) {
        super(
                "The outbox's table '%s' does not exist or cannot be read in the configured DataSource"
                        .formatted(missing),
                cause);
        this.table = table;
        this.missing = missing;
    }

    /** The outbox table, whose name the migrations are applied with. */
    public TableName getTable() {
        return this.table;
    }

    /** The table that was looked for and not found. */
    public TableName getMissing() {
        return this.missing;
    }
}
