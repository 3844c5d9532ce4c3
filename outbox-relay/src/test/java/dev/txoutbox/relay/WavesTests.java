package dev.txoutbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.store.OutboxRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** How a cycle splits its batch into waves, per topic and key. */
class WavesTests {

    @Test
    void oneKeyInTwoTopicsGoesOutInOneWaveSinceKafkaOrdersNothingAcrossTopics() {
        OutboxRecord customers = record(1, "customers", "42");
        OutboxRecord orders = record(2, "orders", "42");
        OutboxRecord laterOrders = record(3, "orders", "42");

        Waves.Wave wave = Waves.next(List.of(customers, orders, laterOrders), Set.of());

        assertThat(wave.records()).containsExactly(customers, orders);
        assertThat(wave.later()).containsExactly(laterOrders);
    }

    @Test
    void aStoppedKeyHoldsBackOnlyItsOwnTopic() {
        OutboxRecord customers = record(1, "customers", "42");
        OutboxRecord orders = record(2, "orders", "42");
        OutboxRecord unkeyed = record(3, "orders", null);

        Waves.Wave wave =
                Waves.next(List.of(customers, orders, unkeyed), Set.of(new Waves.TopicKey("customers", "42")));

        assertThat(wave.records()).containsExactly(orders, unkeyed);
        assertThat(wave.later()).isEmpty();
    }

    private static OutboxRecord record(long id, String topic, String key) {
        return new OutboxRecord(
                id, UUID.randomUUID(), topic, key, "TestEvent", null, Map.of(), Instant.now(), 0, Instant.now());
    }
}
