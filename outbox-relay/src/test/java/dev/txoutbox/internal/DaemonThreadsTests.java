package dev.txoutbox.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How the outbox starts and stops its background threads. */
class DaemonThreadsTests {

    @Test
    void startedThreadsAndExecutorThreadsAreNamedDaemons() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread started = DaemonThreads.start("outbox-test-started", () -> await(release));
        ExecutorService executor = DaemonThreads.singleThreadExecutor("outbox-test-executor");
        try {
            Thread executing = CompletableFuture.supplyAsync(Thread::currentThread, executor)
                    .get(10, TimeUnit.SECONDS);

            assertThat(started.isDaemon()).isTrue();
            assertThat(started.getName()).isEqualTo("outbox-test-started");
            assertThat(executing.isDaemon()).isTrue();
            assertThat(executing.getName()).isEqualTo("outbox-test-executor");
        } finally {
            release.countDown();
            executor.shutdownNow();
        }
    }

    @Test
    void stopInterruptsAThreadThatDidNotEndWithinTheWait() {
        CountDownLatch never = new CountDownLatch(1);
        Thread blocked = DaemonThreads.start("outbox-test-blocked", () -> await(never));

        boolean ended = DaemonThreads.stop(blocked, Duration.ofMillis(50), Duration.ofSeconds(10));

        assertThat(ended).isTrue();
        assertThat(blocked.isAlive()).isFalse();
    }

    @Test
    void awaitEndNamesTheThreadsStillAliveAtTheDeadline() {
        CountDownLatch release = new CountDownLatch(1);
        Thread quick = DaemonThreads.start("outbox-test-quick", () -> {});
        Thread stuck = DaemonThreads.start("outbox-test-stuck", () -> await(release));
        try {
            List<Thread> alive = DaemonThreads.awaitEnd(
                    List.of(quick, stuck, Thread.currentThread()),
                    System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500));

            assertThat(alive).containsExactly(stuck);
        } finally {
            release.countDown();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
