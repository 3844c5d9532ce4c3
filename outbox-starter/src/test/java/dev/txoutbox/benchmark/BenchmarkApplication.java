package dev.txoutbox.benchmark;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.store.OutboxRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/** The application of the writer and latency benchmarks: JPA, the starter with its defaults, the relay running. */
@SpringBootApplication
public class BenchmarkApplication {

    /** Write-to-acknowledgement latencies of the records the relay published, in microseconds. */
    static final ConcurrentLinkedQueue<Long> latencies = new ConcurrentLinkedQueue<>();

    static volatile boolean recordLatencies;

    /** Relay cycles that published something, and the records they published. */
    static final LongAdder cycles = new LongAdder();

    /** Relay cycles that found nothing to publish. */
    static final LongAdder emptyCycles = new LongAdder();

    static final LongAdder published = new LongAdder();

    @Bean
    OutboxRelayListener benchmarkLatencies() {
        return new OutboxRelayListener() {
            @Override
            public void published(OutboxRecord record, Instant acknowledgedAt) {
                if (recordLatencies) {
                    latencies.add(
                            Duration.between(record.createdAt(), acknowledgedAt).toNanos() / 1_000);
                }
            }

            @Override
            public void cycleCompleted(OutboxRelay.CycleResult result) {
                if (result.published() > 0) {
                    cycles.increment();
                    published.add(result.published());
                } else {
                    emptyCycles.increment();
                }
            }
        };
    }
}
