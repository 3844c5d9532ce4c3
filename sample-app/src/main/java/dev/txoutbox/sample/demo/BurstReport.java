package dev.txoutbox.sample.demo;

import org.jspecify.annotations.Nullable;

/**
 * What a burst of orders showed about the relay: how fast the orders went in, and how soon the relay had published
 * all their events. Times are in seconds, counted from the start of the burst, to the millisecond.
 *
 * @param orders how many orders were placed, each in a transaction of its own with its {@code OrderPlaced} event
 * @param secondsToPlace how long placing them took
 * @param ordersPerSecond orders placed per second, rounded
 * @param secondsToDrain when the outbox table was first seen empty after the last order was placed, that is, when the
 *     last event had been published; {@code null} when it did not drain in time
 * @param maxRowsWaiting the most rows seen waiting in the outbox table while the burst ran
 * @param drained whether the outbox table was empty within a minute of the last order
 * @param rowsLeft rows still waiting at the end: 0 when drained
 */
public record BurstReport(
        int orders,
        double secondsToPlace,
        long ordersPerSecond,
        @Nullable Double secondsToDrain,
        long maxRowsWaiting,
        boolean drained,
        long rowsLeft) {}
