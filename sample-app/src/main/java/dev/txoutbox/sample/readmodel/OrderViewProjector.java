package dev.txoutbox.sample.readmodel;

import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.annotation.Transactional;

/**
 * Applies order events to the read model, idempotently: an event changes a view only when it carries a newer version
 * than the view holds. Kafka delivers at least once, so the same event can come twice (a relay that lost its claim
 * after sending, a consumer that crashed before committing its offset); such a repeat, and any older event, changes
 * nothing. Each call runs in a transaction of its own, the read model's, apart from the order service's.
 */
@Component
class OrderViewProjector {

    private static final Logger log = LoggerFactory.getLogger(OrderViewProjector.class);

    private final OrderViewRepository views;

    OrderViewProjector(OrderViewRepository views) {
        this.views = views;
    }

    /**
     * Applies a placed or changed order.
     *
     * @return whether the view changed; {@code false} when it already held this version or a newer one
     */
    @Transactional
    boolean apply(OrderEvent event, @Nullable UUID eventId) {
        // The row lock matters only while a rebalance briefly lets two consumers work on one partition.
        Optional<OrderView> existing = this.views.findForUpdateById(event.id());
        if (existing.isPresent() && existing.get().version() >= event.version()) {
            log.debug(
                    "Read model skipped version {} of order {}: it holds version {} already (event {})",
                    event.version(),
                    event.id(),
                    existing.get().version(),
                    eventId);
            return false;
        }
        OrderView view = existing.orElseGet(() -> new OrderView(event.id()));
        view.apply(event, eventId);
        this.views.save(view);
        log.debug("Read model applied version {} of order {} (event {})", event.version(), event.id(), eventId);
        return true;
    }

    /**
     * Removes a deleted order.
     *
     * @return whether there was a view to remove
     */
    @Transactional
    boolean remove(long orderId) {
        Optional<OrderView> existing = this.views.findForUpdateById(orderId);
        existing.ifPresent(this.views::delete);
        log.debug("Read model removed order {}{}", orderId, existing.isPresent() ? "" : ", which it did not hold");
        return existing.isPresent();
    }
}
