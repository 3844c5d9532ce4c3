package dev.txoutbox.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * The background threads of the outbox: all daemons, so that a thread that the database or the broker keeps waiting
 * never keeps the JVM alive, each with a name that says whose it is, and stopped the same way everywhere.
 *
 * <p>Not API: public only so that the outbox's own packages and modules can share it; it may change in any release.
 */
public final class DaemonThreads {

    private DaemonThreads() {}

    /** Makes daemon threads named {@code name}. */
    public static ThreadFactory factory(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Starts a daemon thread named {@code name} that runs {@code task}. */
    public static Thread start(String name, Runnable task) {
        Thread thread = factory(name).newThread(task);
        thread.start();
        return thread;
    }

    /** An executor of one daemon thread named {@code name}, started with the first task. */
    public static ExecutorService singleThreadExecutor(String name) {
        return Executors.newSingleThreadExecutor(factory(name));
    }

    /** A scheduler of one daemon thread named {@code name}, started with the first task. */
    public static ScheduledExecutorService singleThreadScheduledExecutor(String name) {
        return Executors.newSingleThreadScheduledExecutor(factory(name));
    }

    /**
     * Waits until the threads end or the deadline passes, whichever comes first; the calling thread, when among
     * them, is not waited for. An interrupt of the calling thread ends the wait and stays set.
     *
     * @param deadlineNanos the deadline, on {@link System#nanoTime()}'s clock
     * @return the threads still alive, the calling thread left out
     */
    public static List<Thread> awaitEnd(List<Thread> threads, long deadlineNanos) {
        for (Thread thread : threads) {
            if (thread == Thread.currentThread()) {
                continue;
            }
            try {
                thread.join(Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        List<Thread> alive = new ArrayList<>();
        for (Thread thread : threads) {
            if (thread != Thread.currentThread() && thread.isAlive()) {
                alive.add(thread);
            }
        }
        return alive;
    }

    /**
     * Waits up to {@code wait} for a thread that was asked to end, then interrupts it and waits up to
     * {@code afterInterrupt} more: for a thread that may be blocked where only an interrupt reaches it (waiting for a
     * pooled connection, say). An interrupt of the calling thread ends the wait and stays set.
     *
     * @return whether the thread ended
     */
    public static boolean stop(Thread thread, Duration wait, Duration afterInterrupt) {
        if (thread == Thread.currentThread()) {
            return false;
        }
        try {
            thread.join(Math.max(1, wait.toMillis()));
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(Math.max(1, afterInterrupt.toMillis()));
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }
}
