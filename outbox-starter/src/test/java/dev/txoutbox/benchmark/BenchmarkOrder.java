package dev.txoutbox.benchmark;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** The business row of the writer benchmark: what a service inserts in its transaction. */
@Entity
@Table(name = "benchmark_order")
public class BenchmarkOrder {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    private String customer;

    @Column(columnDefinition = "text")
    private String data;

    protected BenchmarkOrder() {}

    BenchmarkOrder(String customer, String data) {
        this.customer = customer;
        this.data = data;
    }

    public Long getId() {
        return this.id;
    }

    public String getCustomer() {
        return this.customer;
    }

    public String getData() {
        return this.data;
    }
}
