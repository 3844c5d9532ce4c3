package dev.txoutbox.modulith.shop.inventory;

import dev.txoutbox.modulith.shop.orders.OrderPlaced;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/** Reserves stock for every placed order, in the order's transaction, and says so with an event of its own. */
@Component
class StockReservations {

    private final ApplicationEventPublisher events;

    StockReservations(ApplicationEventPublisher events) {
        this.events = events;
    }

    @EventListener
    void on(OrderPlaced order) {
        this.events.publishEvent(new StockReserved(order.orderId()));
    }
}
