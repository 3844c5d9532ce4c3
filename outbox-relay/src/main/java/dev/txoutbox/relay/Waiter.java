package dev.txoutbox.relay;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where a relay's threads wait between cycles, as db-scheduler's scheduler waits in its {@code Waiter}: a wait ends
 * when its time is up, at a wake-up, which ends one thread's wait (or the next wait, when no thread waits), or when
 * the relay stops, which ends them all. It counts the threads that wait for another cycle to end, so that the relay
 * wakes one of them up only when some wait.
 */
final class Waiter {

    private final Object monitor = new Object();

    private boolean wakeUpRequested;

    /** Whether the relay runs: waits end once it stops. */
    private boolean open;

    /**
     * Relay threads waiting for another cycle to end: their last claim held rows back behind an earlier row of their
     * key elsewhere, or found every cycle slot of the table taken.
     */
    private final AtomicInteger waitingForOtherCycles = new AtomicInteger();

    /** Lets waits last, as the relay starts. */
    void open() {
        synchronized (this.monitor) {
            this.open = true;
        }
    }

    /** Ends every wait, and the waits to come, as the relay stops. */
    void close() {
        synchronized (this.monitor) {
            this.open = false;
            this.monitor.notifyAll();
        }
    }

    /** Ends one thread's wait, or the next wait when no thread waits. Cheap, never blocks for long. */
    void wakeUp() {
        synchronized (this.monitor) {
            this.wakeUpRequested = true;
            // One waiting cycle is enough to take what a commit wrote; the others keep waiting.
            this.monitor.notify();
        }
    }

    /** Whether a thread waits for another cycle to end. */
    boolean othersWaitForCycles() {
        return this.waitingForOtherCycles.get() > 0;
    }

    /**
     * Waits for a wake-up, at most {@code millis}.
     *
     * @param forOtherCycles whether the thread waits for another cycle to end (see {@link #othersWaitForCycles()})
     */
    void await(long millis, boolean forOtherCycles) {
        if (!forOtherCycles) {
            await(millis);
            return;
        }
        this.waitingForOtherCycles.incrementAndGet();
        try {
            await(millis);
        } finally {
            this.waitingForOtherCycles.decrementAndGet();
        }
    }

    /** Waits for a wake-up, at most {@code millis}; an interrupt ends the wait and stays set. */
    void await(long millis) {
        synchronized (this.monitor) {
            long until = System.currentTimeMillis() + millis;
            while (!this.wakeUpRequested && this.open) {
                long left = until - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                try {
                    this.monitor.wait(left);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            this.wakeUpRequested = false;
        }
    }
}
