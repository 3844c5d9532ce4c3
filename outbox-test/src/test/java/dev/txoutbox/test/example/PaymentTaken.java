package dev.txoutbox.test.example;

/** The event of a payment: which order, how much. */
record PaymentTaken(String orderId, long cents) {}
