package dev.txoutbox.sample.order;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

/**
 * A request to place an order.
 *
 * @param customer who places it
 * @param product what is ordered
 * @param quantity how many, from 1 to {@value #MAX_QUANTITY}
 */
public record PlaceOrder(
        @NotBlank @Size(max = 100) String customer,
        @NotBlank @Size(max = 100) String product,
        @NotNull @Positive @Max(MAX_QUANTITY) Integer quantity) {

    /** The largest quantity of one order. */
    public static final int MAX_QUANTITY = 1000;
}
