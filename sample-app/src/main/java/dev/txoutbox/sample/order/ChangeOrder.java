package dev.txoutbox.sample.order;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Positive;
import org.jspecify.annotations.Nullable;

/**
 * A request to change an order: a new quantity, a new status, or both. Whatever is left out stays as it is.
 *
 * @param quantity the new quantity, from 1 to {@value PlaceOrder#MAX_QUANTITY}, or {@code null} to keep it
 * @param status the new status, or {@code null} to keep it
 */
public record ChangeOrder(
        @Nullable @Positive @Max(PlaceOrder.MAX_QUANTITY) Integer quantity,
        @Nullable OrderStatus status) {

    @AssertTrue(message = "must give a quantity, a status, or both")
    boolean isChange() {
        return this.quantity != null || this.status != null;
    }
}
