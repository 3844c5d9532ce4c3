package dev.txoutbox.modulith.shop.orders;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders and publishes their events in the same transaction. */
@Service
public class OrderService {

    private final ApplicationEventPublisher events;

    OrderService(ApplicationEventPublisher events) {
        this.events = events;
    }

    /** Places an order. */
    @Transactional
    public void placeOrder(String orderId, String customerId) {
        this.events.publishEvent(new OrderPlaced(orderId, customerId));
        this.events.publishEvent(new OrderNoted(orderId, "placed"));
    }

    /** Places an order and then fails, so that the transaction rolls back. */
    @Transactional
    public void placeOrderAndFail(String orderId, String customerId) {
        this.events.publishEvent(new OrderPlaced(orderId, customerId));
        throw new IllegalStateException("payment declined for order " + orderId);
    }

    /** Publishes an order event without a transaction, which the outbox refuses. */
    public void placeOrderWithoutTransaction(String orderId, String customerId) {
        this.events.publishEvent(new OrderPlaced(orderId, customerId));
    }
}
