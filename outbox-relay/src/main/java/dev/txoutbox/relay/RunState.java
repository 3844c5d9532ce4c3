package dev.txoutbox.relay;

/**
 * Which run of a relay is current, and whether it is stopping: set by the relay's start and stop, read by its cycles.
 * A thread that outlived a stop whose wait for it ran out may still be in its cycle when the relay starts again: the
 * start clears the stop request, and that cycle must not take this for leave to go on sending, so each cycle asks
 * about the run it belongs to.
 */
final class RunState {

    /** Set by a stop: cycles in progress send nothing more and wait until the shutdown deadline at most. */
    private volatile boolean stopRequested;

    private volatile long shutdownDeadlineNanos;

    /** Changes at every start, so that a thread that outlived a stop never takes part in the next run. */
    private volatile Object generation = new Object();

    /** The current run. */
    Object generation() {
        return this.generation;
    }

    /** Starts a new run, and returns it. */
    Object startRun() {
        this.stopRequested = false;
        Object current = new Object();
        this.generation = current;
        return current;
    }

    /**
     * Asks the cycles in progress to stop.
     *
     * @param shutdownDeadlineNanos until when they may wait for acknowledgements, on {@link System#nanoTime()}'s clock
     */
    void requestStop(long shutdownDeadlineNanos) {
        this.shutdownDeadlineNanos = shutdownDeadlineNanos;
        this.stopRequested = true;
    }

    /** Whether the relay was asked to stop since the run {@code generation} started, or started another run since. */
    boolean stopping(Object generation) {
        return this.stopRequested || this.generation != generation;
    }

    /**
     * How long a cycle of the run {@code generation} waits for acknowledgements: the send deadline, or the shutdown
     * deadline once stopping, when that comes first.
     */
    long waitDeadline(long sendDeadline, Object generation) {
        // After a stop and a new start, the stop's shutdown deadline still bounds a cycle of the run that stopped.
        return stopping(generation) && this.shutdownDeadlineNanos - sendDeadline < 0
                ? this.shutdownDeadlineNanos
                : sendDeadline;
    }
}
