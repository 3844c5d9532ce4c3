package dev.txoutbox.sample.readmodel;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/**
 * One order in the read model. It stands for what a search index or another service's database would hold: a copy
 * of the order that is kept up to date from the events alone.
 */
@Entity
@Table(name = "order_view")
class OrderView {

    @Id
    private Long id;

    @Column(nullable = false, length = 100)
    private String customer;

    @Column(nullable = false, length = 100)
    private String product;

    @Column(nullable = false)
    private int quantity;

    @Column(nullable = false, length = 20)
    private String status;

    // The order's version from the event, not a lock of this table: it decides whether a later event is newer.
    @Column(nullable = false)
    private int version;

    private UUID lastEventId;

    @Column(nullable = false)
    private Instant appliedAt;

    protected OrderView() {
        // for JPA
    }

    OrderView(long id) {
        this.id = id;
    }

    int version() {
        return this.version;
    }

    void apply(OrderEvent event, UUID eventId) {
        this.customer = event.customer();
        this.product = event.product();
        this.quantity = event.quantity();
        this.status = event.status();
        this.version = event.version();
        this.lastEventId = eventId;
        this.appliedAt = Instant.now();
    }

    OrderViewResponse toResponse() {
        return new OrderViewResponse(
                this.id,
                this.customer,
                this.product,
                this.quantity,
                this.status,
                this.version,
                this.lastEventId,
                this.appliedAt);
    }
}
