package dev.txoutbox.autoconfigure;

/** The outbox cannot tell which DataSource or transaction manager to use; says which setting to change. */
final class OutboxDataSourceException extends RuntimeException {

    private final String problem;

    private final String action;

    OutboxDataSourceException(String problem, String action) {
        super(problem + " " + action);
        this.problem = problem;
        this.action = action;
    }

    String getProblem() {
        return this.problem;
    }

    String getAction() {
        return this.action;
    }
}
