package dev.txoutbox.sample.order;

import dev.txoutbox.OutboxEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Places, changes and deletes orders. Every change writes its event to the outbox in the same transaction as the
 * order itself, so the order table and the {@code sample.orders-topic} topic cannot disagree: the event is published
 * if and only if the change committed, also when Kafka is down at that moment.
 *
 * <p>Every event of an order has the order's id as its key, so Kafka keeps them in order per order. Placed and
 * changed orders send an {@link OrderSnapshot}; a deleted order sends a tombstone (a record with a null value), which
 * lets a compacted topic forget the order and tells consumers to drop it.
 */
@Service
public class OrderService {

    private static final Logger log = LoggerFactory.getLogger(OrderService.class);

    private final OrderRepository orders;

    OrderService(OrderRepository orders) {
        this.orders = orders;
    }

    /** Places an order and writes an {@code OrderPlaced} event. */
    @Transactional
    @OutboxEvent(topic = "${sample.orders-topic}", key = "#result.id", type = "OrderPlaced")
    public OrderSnapshot placeOrder(PlaceOrder command) {
        // The flush gives the order its id and version now, for the event's key and payload.
        Order order = this.orders.saveAndFlush(new Order(command.customer(), command.product(), command.quantity()));
        OrderSnapshot placed = order.snapshot();
        log.debug(
                "Placed order {}: {} x {} for {}", placed.id(), placed.quantity(), placed.product(), placed.customer());
        return placed;
    }

    /**
     * Returns an order.
     *
     * @throws OrderNotFoundException when no order has the id
     */
    @Transactional(readOnly = true)
    public OrderSnapshot getOrder(long id) {
        return find(id).snapshot();
    }

    /**
     * Changes an order's quantity, status or both and writes an {@code OrderChanged} event. A request that changes
     * nothing leaves the version as it was, so consumers recognise its event as one they already applied.
     *
     * @throws OrderNotFoundException when no order has the id
     */
    @Transactional
    @OutboxEvent(topic = "${sample.orders-topic}", key = "#result.id", type = "OrderChanged")
    public OrderSnapshot changeOrder(long id, ChangeOrder change) {
        Order order = find(id);
        if (change.quantity() != null) {
            order.changeQuantity(change.quantity());
        }
        if (change.status() != null) {
            order.changeStatus(change.status());
        }
        // Hibernate raises the version when it writes the change; flush now so that the event carries the new one.
        this.orders.flush();
        OrderSnapshot changed = order.snapshot();
        log.debug("Changed order {} to version {}", changed.id(), changed.version());
        return changed;
    }

    /**
     * Deletes an order and writes a tombstone for it, of type {@code OrderDeleted}.
     *
     * @throws OrderNotFoundException when no order has the id
     */
    @Transactional
    @OutboxEvent(topic = "${sample.orders-topic}", key = "#id", payload = "null", type = "OrderDeleted")
    public void deleteOrder(long id) {
        this.orders.delete(find(id));
        log.debug("Deleted order {}", id);
    }

    private Order find(long id) {
        return this.orders.findById(id).orElseThrow(() -> new OrderNotFoundException(id));
    }
}
