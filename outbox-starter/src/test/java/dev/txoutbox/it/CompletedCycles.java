package dev.txoutbox.it;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts a relay's completed cycles, as a bean of an application context: to wait until a relay has run. */
public final class CompletedCycles implements OutboxRelayListener {

    private final AtomicInteger count = new AtomicInteger();

    @Override
    public void cycleCompleted(OutboxRelay.CycleResult result) {
        this.count.incrementAndGet();
    }

    /** How many cycles completed so far. */
    public int count() {
        return this.count.get();
    }
}
