package dev.txoutbox;

/**
 * An event could not be written to the outbox: the message names the event, where it came from, and the fix. When
 * thrown inside a transaction, the transaction rolls back, so nothing is half written.
 */
public class OutboxException extends RuntimeException {

    public OutboxException(String message) {
        super(message);
    }

    public OutboxException(String message, Throwable cause) {
        super(message, cause);
    }
}
