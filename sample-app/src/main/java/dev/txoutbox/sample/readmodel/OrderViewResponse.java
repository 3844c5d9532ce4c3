package dev.txoutbox.sample.readmodel;

import java.time.Instant;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * An order as the read model holds it.
 *
 * @param id the order's id
 * @param customer who placed the order
 * @param product what was ordered
 * @param quantity how many
 * @param status where the order is in its life
 * @param version the order's version of the latest event applied
 * @param lastEventId the {@code outbox-event-id} of that event
 * @param appliedAt when the read model applied it
 */
record OrderViewResponse(
        long id,
        String customer,
        String product,
        int quantity,
        String status,
        int version,
        @Nullable UUID lastEventId,
        Instant appliedAt) {}
