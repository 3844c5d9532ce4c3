package dev.txoutbox.relay.kafka;

import dev.txoutbox.internal.DaemonThreads;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;

/**
 * Runs a template's {@code flush()} away from the relay's threads, since it blocks until the records are acknowledged
 * or expire, and a stopping relay must not wait for that. One thread with room for one request behind the flush it
 * runs: a request made while another is waiting is covered by that one, and while a flush runs the producer sends
 * whatever it is handed at once anyway.
 */
final class ProducerFlusher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaRecordPublisher.class);

    /** How long the thread stays without work before it ends. */
    private static final long IDLE_SECONDS = 60;

    private final KafkaTemplate<?, ?> template;

    private final long closeSeconds;

    private final ThreadPoolExecutor thread;

    /**
     * Whether the flusher's thread reaches the producer the relay sends with: not when the template's factory binds a
     * producer to each thread, nor when the template is transactional, where a flush outside a transaction fails.
     */
    private final boolean flushable;

    ProducerFlusher(KafkaTemplate<?, ?> template, long closeSeconds) {
        this.template = template;
        this.closeSeconds = closeSeconds;
        this.thread = new ThreadPoolExecutor(
                1,
                1,
                IDLE_SECONDS,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(1),
                DaemonThreads.factory("outbox-relay-producer-flush"),
                new ThreadPoolExecutor.DiscardPolicy());
        this.thread.allowCoreThreadTimeOut(true);
        this.flushable =
                !template.isTransactional() && !template.getProducerFactory().isProducerPerThread();
    }

    /** Asks for a flush; does nothing where the flusher's thread would not reach the relay's producer. */
    void request() {
        if (this.flushable) {
            this.thread.execute(this::flush);
        }
    }

    private void flush() {
        try {
            this.template.flush();
        } catch (RuntimeException ex) {
            // The records' own futures report what became of them; a flush that failed only sent them later.
            log.debug("Flushing the outbox relay's producer failed", ex);
        }
    }

    /**
     * Ends the flusher's thread: a flush that waits for the broker ends with an interrupt; one that is still getting
     * its producer from the factory is waited for, so that it cannot create a producer after the factory closed its
     * own.
     */
    @Override
    public void close() {
        this.thread.shutdownNow();
        try {
            if (!this.thread.awaitTermination(this.closeSeconds, TimeUnit.SECONDS)) {
                log.warn("The outbox relay's producer flush did not end within {} s of closing", this.closeSeconds);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }
}
