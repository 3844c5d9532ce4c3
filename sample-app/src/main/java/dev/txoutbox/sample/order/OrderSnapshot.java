package dev.txoutbox.sample.order;

/**
 * An order as it was when a transaction changed it: the payload of the order events and the body of the API's
 * responses. The {@code version} grows with every change, so that a consumer can tell a newer state from an older
 * or repeated one.
 *
 * @param id the order's id, also the Kafka record key of its events
 * @param customer who placed the order
 * @param product what was ordered
 * @param quantity how many
 * @param status where the order is in its life
 * @param version the number of changes since the order was placed, starting at 0
 */
public record OrderSnapshot(long id, String customer, String product, int quantity, OrderStatus status, int version) {}
