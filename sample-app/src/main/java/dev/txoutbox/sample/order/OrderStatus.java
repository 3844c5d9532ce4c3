package dev.txoutbox.sample.order;

/** Where an order is in its life. */
public enum OrderStatus {
    PLACED,
    CONFIRMED,
    SHIPPED,
    CANCELLED
}
