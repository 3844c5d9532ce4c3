package dev.txoutbox.sample.order;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Version;
import java.time.Instant;

/** An order: the business data that the outbox keeps in step with the event stream. */
@Entity
@Table(name = "orders")
class Order {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(nullable = false, length = 100)
    private String customer;

    @Column(nullable = false, length = 100)
    private String product;

    @Column(nullable = false)
    private int quantity;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false, length = 20)
    private OrderStatus status;

    // Optimistic locking keeps two concurrent changes from both winning; the same number orders the events for
    // consumers, since Hibernate raises it exactly when a change reaches the database.
    @Version
    @Column(nullable = false)
    private int version;

    @Column(nullable = false, updatable = false)
    private Instant createdAt;

    @Column(nullable = false)
    private Instant updatedAt;

    protected Order() {
        // for JPA
    }

    Order(String customer, String product, int quantity) {
        this.customer = customer;
        this.product = product;
        this.quantity = quantity;
        this.status = OrderStatus.PLACED;
        this.createdAt = Instant.now();
        this.updatedAt = this.createdAt;
    }

    void changeQuantity(int quantity) {
        if (quantity != this.quantity) {
            this.quantity = quantity;
            this.updatedAt = Instant.now();
        }
    }

    void changeStatus(OrderStatus status) {
        if (status != this.status) {
            this.status = status;
            this.updatedAt = Instant.now();
        }
    }

    /** The order's current state; call it after a flush, so that the id and version are the database's. */
    OrderSnapshot snapshot() {
        return new OrderSnapshot(this.id, this.customer, this.product, this.quantity, this.status, this.version);
    }
}
