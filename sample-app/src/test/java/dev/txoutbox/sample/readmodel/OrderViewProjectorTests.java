package dev.txoutbox.sample.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.sample.SampleIntegrationTest;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The read model applies each order event at most once, whatever Kafka delivers again or late. The order ids here
 * are far above those the API hands out, so the running consumer never touches these views.
 */
class OrderViewProjectorTests extends SampleIntegrationTest {

    private static final AtomicLong ids = new AtomicLong(1_000_000);

    @Autowired
    private OrderViewProjector projector;

    @Autowired
    private OrderViewRepository views;

    @Test
    void sameEventTwiceChangesTheViewOnce() {
        long id = ids.incrementAndGet();
        UUID eventId = UUID.randomUUID();
        OrderEvent placed = new OrderEvent(id, "alice", "keyboard", 1, "PLACED", 0);

        assertThat(this.projector.apply(placed, eventId)).isTrue();
        OrderViewResponse first = view(id);
        assertThat(this.projector.apply(placed, eventId)).isFalse();

        assertThat(view(id)).isEqualTo(first);
        assertThat(first.lastEventId()).isEqualTo(eventId);
    }

    @Test
    void olderVersionAfterNewerChangesNothing() {
        long id = ids.incrementAndGet();
        UUID newer = UUID.randomUUID();
        this.projector.apply(new OrderEvent(id, "bob", "monitor", 2, "CONFIRMED", 1), newer);
        OrderViewResponse before = view(id);

        boolean applied = this.projector.apply(new OrderEvent(id, "bob", "monitor", 1, "PLACED", 0), UUID.randomUUID());

        assertThat(applied).isFalse();
        assertThat(view(id)).isEqualTo(before);
        assertThat(before.quantity()).isEqualTo(2);
        assertThat(before.status()).isEqualTo("CONFIRMED");
        assertThat(before.lastEventId()).isEqualTo(newer);
    }

    @Test
    void newerVersionReplacesTheView() {
        long id = ids.incrementAndGet();
        this.projector.apply(new OrderEvent(id, "carol", "lamp", 1, "PLACED", 0), UUID.randomUUID());
        UUID changed = UUID.randomUUID();

        assertThat(this.projector.apply(new OrderEvent(id, "carol", "lamp", 4, "SHIPPED", 2), changed))
                .isTrue();

        OrderViewResponse view = view(id);
        assertThat(view.quantity()).isEqualTo(4);
        assertThat(view.status()).isEqualTo("SHIPPED");
        assertThat(view.version()).isEqualTo(2);
        assertThat(view.lastEventId()).isEqualTo(changed);
    }

    @Test
    void tombstoneRemovesTheViewAndARepeatedTombstoneChangesNothing() {
        long id = ids.incrementAndGet();
        this.projector.apply(new OrderEvent(id, "dave", "pen", 1, "PLACED", 0), UUID.randomUUID());

        assertThat(this.projector.remove(id)).isTrue();
        assertThat(this.views.findById(id)).isEmpty();
        assertThat(this.projector.remove(id)).isFalse();
        assertThat(this.views.findById(id)).isEmpty();
    }

    private OrderViewResponse view(long id) {
        return this.views.findById(id).orElseThrow().toResponse();
    }
}
