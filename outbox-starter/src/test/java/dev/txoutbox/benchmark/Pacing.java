package dev.txoutbox.benchmark;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Work done at a paced rate by a few threads, as L's writers and P's producer do it. */
final class Pacing {

    /** Threads that share the rate. */
    static final int THREADS = 4;

    private Pacing() {}

    /**
     * Runs a task in {@value #THREADS} threads at a rate for a while; returns the seconds it took. Threads that fall
     * behind the schedule run as fast as they can, but only until the time is up: what they did is measured against
     * the time, not against the schedule.
     */
    static double run(Runnable task, double perSecond, Duration duration) throws Exception {
        long intervalNanos = (long) (1e9 * THREADS / perSecond);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            done.add(pool.submit(() -> {
                long next = System.nanoTime();
                while (System.nanoTime() < end) {
                    task.run();
                    next += intervalNanos;
                    long sleep = next - System.nanoTime();
                    if (sleep > 0) {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    }
                }
                return null;
            }));
        }
        try {
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            pool.shutdown();
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
