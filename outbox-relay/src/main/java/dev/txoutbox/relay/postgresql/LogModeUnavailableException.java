package dev.txoutbox.relay.postgresql;

/**
 * The relay's log mode cannot run on this PostgreSQL server as it is set up: {@code wal_level} is not {@code
 * logical}, the database user may not replicate, no replication slot is free, or the publication or slot cannot be
 * made. The message says what to change, on a self-managed server and on managed services.
 */
public final class LogModeUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public LogModeUnavailableException(String message) {
        super(message);
    }

    /** Creates the exception with its cause. */
    public LogModeUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
