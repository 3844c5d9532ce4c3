package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.postgresql.WakeUpNotifier;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * What happens after each commit that wrote outbox rows, with the number of events per topic: the local relays wake
 * up, the other instances are notified, and the written events are counted. Nothing here may fail the caller, whose
 * transaction has committed.
 *
 * <p>The beans involved are looked up once all singletons exist, not at each commit, since a look-up by type costs
 * more than the rest of the write; commits while the context starts look them up each time.
 */
final class OutboxCommitListener implements Consumer<Map<String, Integer>>, SmartInitializingSingleton {

    private static final Logger log = LoggerFactory.getLogger(OutboxCommitListener.class);

    private final ObjectProvider<OutboxRelay> relays;

    private final ObjectProvider<WakeUpNotifier> otherInstances;

    private final ObjectProvider<OutboxMetrics> metrics;

    private volatile @Nullable Beans beans;

    OutboxCommitListener(
            ObjectProvider<OutboxRelay> relays,
            ObjectProvider<WakeUpNotifier> otherInstances,
            ObjectProvider<OutboxMetrics> metrics) {
        this.relays = relays;
        this.otherInstances = otherInstances;
        this.metrics = metrics;
    }

    @Override
    public void afterSingletonsInstantiated() {
        this.beans = lookUp();
    }

    @Override
    public void accept(Map<String, Integer> writtenPerTopic) {
        try {
            Beans current = this.beans;
            if (current == null) {
                current = lookUp();
            }
            current.relays().forEach(OutboxRelay::wakeUp);
            if (current.otherInstances() != null) {
                current.otherInstances().committed();
            }
            if (current.metrics() != null) {
                current.metrics().written(writtenPerTopic);
            }
        } catch (RuntimeException ex) {
            log.warn("Outbox: waking the relays or counting written events failed: {}", ex.toString());
        }
    }

    private Beans lookUp() {
        return new Beans(
                this.relays.orderedStream().toList(),
                this.otherInstances.getIfAvailable(),
                this.metrics.getIfAvailable());
    }

    private record Beans(
            List<OutboxRelay> relays,
            @Nullable WakeUpNotifier otherInstances,
            @Nullable OutboxMetrics metrics) {}
}
