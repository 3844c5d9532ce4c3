package dev.txoutbox.modulith.shop.orders;

/** A note on an order, for the application's own modules only: not externalized. */
public record OrderNoted(String orderId, String note) {}
