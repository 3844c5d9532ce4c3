package dev.txoutbox.modulith.shop.orders;

import org.springframework.modulith.events.Externalized;

/** An order was placed; published to the topic the {@code shopTopics} bean names, keyed by the customer. */
@Externalized("#{@shopTopics.orders()}::#{customerId}")
public record OrderPlaced(String orderId, String customerId) {}
