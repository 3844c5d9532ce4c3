package dev.txoutbox.modulith.shop.inventory;

/** Stock was reserved for an order: an event of the inventory module, not externalized. */
public record StockReserved(String orderId) {}
