package dev.txoutbox.sample.readmodel;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * An order event as the read model reads it from the topic. The read model keeps its own copy of the contract
 * instead of sharing the order service's classes, as a separate service would, and ignores fields it does not know,
 * so that the producer can add fields without breaking it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record OrderEvent(long id, String customer, String product, int quantity, String status, int version) {}
