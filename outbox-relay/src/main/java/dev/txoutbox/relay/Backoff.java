package dev.txoutbox.relay;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: the n-th failure waits a random time between half and all of
 * {@code min(maxDelay, initialDelay * multiplier^(n-1))}, so that many failing rows do not retry in lock step.
 */
record Backoff(Duration initialDelay, double multiplier, Duration maxDelay) {

    long delayMillis(int failures) {
        double exponential = this.initialDelay.toMillis() * Math.pow(this.multiplier, Math.max(0, failures - 1));
        double capped = Math.min(exponential, this.maxDelay.toMillis());
        return (long) (capped / 2 + ThreadLocalRandom.current().nextDouble() * capped / 2);
    }
}
