package dev.txoutbox.it;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "invoice")
public class Invoice {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    private String customer;

    private long amount;

    protected Invoice() {}

    public Invoice(String customer, long amount) {
        this.customer = customer;
        this.amount = amount;
    }

    public Long getId() {
        return this.id;
    }

    public String getCustomer() {
        return this.customer;
    }

    public long getAmount() {
        return this.amount;
    }
}
