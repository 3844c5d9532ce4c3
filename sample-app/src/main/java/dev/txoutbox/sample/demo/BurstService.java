package dev.txoutbox.sample.demo;

import dev.txoutbox.sample.order.OrderService;
import dev.txoutbox.sample.order.PlaceOrder;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.web.ErrorResponseException;

/**
 * Places a burst of orders through the ordinary {@link OrderService}, from a few threads at once, and watches the
 * outbox table until the relay has published every event: a load test in miniature that shows the relay keeping up,
 * or not, with the row count sampled every {@value #SAMPLE_INTERVAL_MILLIS} ms. With the monitoring of
 * docker-compose.yml, the dashboard shows the same burst from the relay's side.
 *
 * <p>The table is counted as a whole, so rows that other requests write meanwhile, or that wait behind a dead letter,
 * count too: the burst is a demonstration for a quiet sample, not a benchmark. One burst runs at a time.
 */
@Service
class BurstService {

    /** The largest burst: enough to keep the relay busy for a while, small enough for a laptop. */
    static final int MAX_ORDERS = 20_000;

    /** How many threads place the orders; each order is one transaction on a connection of its own. */
    static final int THREADS = 4;

    /** How long to wait, after the last order, for the relay to empty the outbox table. */
    static final long DRAIN_TIMEOUT_SECONDS = 60;

    static final long SAMPLE_INTERVAL_MILLIS = 50;

    private static final Logger log = LoggerFactory.getLogger(BurstService.class);

    // The starter refuses to start with any other table name; checked again because it ends up in SQL text.
    private static final Pattern TABLE_NAME = Pattern.compile("[a-z_][a-z0-9_]*");

    private final OrderService orderService;

    private final JdbcClient jdbc;

    private final String countRows;

    private final AtomicBoolean running = new AtomicBoolean();

    BurstService(OrderService orderService, JdbcClient jdbc, @Value("${outbox.table:outbox_event}") String table) {
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException("outbox.table must be a lower-case identifier, but is '" + table + "'");
        }
        this.orderService = orderService;
        this.jdbc = jdbc;
        this.countRows = "SELECT count(*) FROM " + table;
    }

    /**
     * Places {@code orders} orders and waits until the outbox table is empty, at most
     * {@value #DRAIN_TIMEOUT_SECONDS} seconds after the last of them.
     *
     * @throws ErrorResponseException 400 when {@code orders} is not between 1 and {@value #MAX_ORDERS}, 409 when a
     *     burst is running already
     */
    BurstReport burst(int orders) {
        if (orders < 1 || orders > MAX_ORDERS) {
            throw problem(
                    HttpStatus.BAD_REQUEST, "orders: must be between 1 and " + MAX_ORDERS + ", but was " + orders);
        }
        if (!this.running.compareAndSet(false, true)) {
            throw problem(
                    HttpStatus.CONFLICT,
                    "A burst is running already; its rows would count in this one's. Try again when it has answered");
        }
        try {
            BurstReport report = run(orders);
            if (report.drained()) {
                log.info(
                        "Burst of {} orders placed in {} s ({}/s); the outbox drained after {} s, at most {} rows waiting",
                        report.orders(),
                        report.secondsToPlace(),
                        report.ordersPerSecond(),
                        report.secondsToDrain(),
                        report.maxRowsWaiting());
            } else {
                log.warn(
                        "Burst of {} orders placed in {} s; the outbox still held {} rows {} s after the last order",
                        report.orders(),
                        report.secondsToPlace(),
                        report.rowsLeft(),
                        DRAIN_TIMEOUT_SECONDS);
            }
            return report;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("The burst was interrupted", ex);
        } finally {
            this.running.set(false);
        }
    }

    private BurstReport run(int orders) throws InterruptedException {
        ExecutorService placers = Executors.newFixedThreadPool(THREADS, threadsNamed("burst-"));
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        AtomicInteger placed = new AtomicInteger();
        long maxWaiting = 0;
        long started = System.nanoTime();
        try {
            for (int i = 1; i <= orders; i++) {
                PlaceOrder order = new PlaceOrder("burst", "item " + i, 1);
                placers.execute(() -> {
                    // After one failure the others would most likely fail the same way, only slower.
                    if (failure.get() == null) {
                        try {
                            this.orderService.placeOrder(order);
                            placed.incrementAndGet();
                        } catch (RuntimeException ex) {
                            failure.compareAndSet(null, ex);
                        }
                    }
                });
            }
            placers.shutdown();
            // Waiting for the placers is the sampling clock while they run.
            while (!placers.awaitTermination(SAMPLE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS)) {
                maxWaiting = Math.max(maxWaiting, rowsWaiting());
            }
        } finally {
            placers.shutdownNow();
        }
        long placedAt = System.nanoTime();
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "Placing the orders of the burst failed after " + placed.get() + " of " + orders, failure.get());
        }
        long deadline = placedAt + TimeUnit.SECONDS.toNanos(DRAIN_TIMEOUT_SECONDS);
        long waiting = rowsWaiting();
        while (waiting > 0 && System.nanoTime() < deadline) {
            maxWaiting = Math.max(maxWaiting, waiting);
            Thread.sleep(SAMPLE_INTERVAL_MILLIS);
            waiting = rowsWaiting();
        }
        maxWaiting = Math.max(maxWaiting, waiting);
        long drainedAt = System.nanoTime();
        double secondsToPlace = seconds(placedAt - started);
        return new BurstReport(
                orders,
                secondsToPlace,
                Math.round(orders / Math.max(secondsToPlace, 0.001)),
                (waiting == 0) ? seconds(drainedAt - started) : null,
                maxWaiting,
                waiting == 0,
                waiting);
    }

    private long rowsWaiting() {
        return this.jdbc.sql(this.countRows).query(Long.class).single();
    }

    private static double seconds(long nanos) {
        return Duration.ofNanos(nanos).toMillis() / 1000.0;
    }

    private static ErrorResponseException problem(HttpStatus status, String detail) {
        return new ErrorResponseException(status, ProblemDetail.forStatusAndDetail(status, detail), null);
    }

    private static ThreadFactory threadsNamed(String prefix) {
        AtomicInteger threads = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, prefix + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
