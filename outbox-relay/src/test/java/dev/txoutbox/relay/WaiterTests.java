package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WaiterTests {

    private static final long LONG_WAIT_MILLIS = 60_000;

    private final Waiter waiter = new Waiter();

    @BeforeEach
    void open() {
        this.waiter.open();
    }

    @AfterEach
    void close() {
        this.waiter.close();
    }

    @Test
    void aWakeUpEndsTheNextWaitWhenNoThreadWaits() {
        this.waiter.wakeUp();

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> this.waiter.await(LONG_WAIT_MILLIS));
    }

    @Test
    void aWakeUpEndsOneWaitingThreadsWaitAndTheOthersGoOnWaiting() throws Exception {
        CompletableFuture<Void> first = waitInAnotherThread();
        CompletableFuture<Void> second = waitInAnotherThread();
        stillWaiting(first);
        stillWaiting(second);

        this.waiter.wakeUp();

        await().atMost(Duration.ofSeconds(10)).until(() -> first.isDone() || second.isDone());
        stillWaiting(first.isDone() ? second : first);
    }

    @Test
    void aWaitWithoutAWakeUpLastsItsTime() {
        long started = System.nanoTime();

        this.waiter.await(200);

        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(waitedMillis).isGreaterThanOrEqualTo(190);
    }

    @Test
    void closingEndsEveryWaitAndTheWaitsToCome() throws Exception {
        CompletableFuture<Void> waiting = waitInAnotherThread();
        stillWaiting(waiting);

        this.waiter.close();

        waiting.get(10, TimeUnit.SECONDS);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> this.waiter.await(LONG_WAIT_MILLIS));
    }

    private CompletableFuture<Void> waitInAnotherThread() {
        return CompletableFuture.runAsync(() -> this.waiter.await(LONG_WAIT_MILLIS));
    }

    private static void stillWaiting(CompletableFuture<Void> waiting) {
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !waiting.isDone());
    }
}
