package dev.txoutbox.test.example;

import dev.txoutbox.OutboxEvent;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Takes payments; each change of the payment table writes its event in the same transaction. */
@Service
class PaymentService {

    static final String PAYMENTS = "payments";

    /** A topic that the application does not create, for a relay that cannot publish. */
    static final String REFUNDS = "refunds";

    private final JdbcClient jdbc;

    PaymentService(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    @OutboxEvent(
            topic = PAYMENTS,
            key = "#result.orderId",
            headers = @OutboxEvent.Header(name = "tenant", value = "#{#tenant}"))
    public PaymentTaken take(String tenant, String orderId, long cents) {
        this.jdbc
                .sql("INSERT INTO payment (order_id, cents) VALUES (?, ?)")
                .params(orderId, cents)
                .update();
        return new PaymentTaken(orderId, cents);
    }

    @Transactional
    @OutboxEvent(topic = PAYMENTS, key = "#orderId", payload = "null", type = "PaymentForgotten")
    @OutboxEvent(topic = "notes", key = "#orderId", payload = "'forgotten: ' + #reason")
    public void forget(String orderId, String reason) {
        this.jdbc.sql("DELETE FROM payment WHERE order_id = ?").params(orderId).update();
    }

    @Transactional
    @OutboxEvent(topic = REFUNDS, key = "#orderId", payload = "#cents")
    public void refund(String orderId, long cents) {
        this.jdbc
                .sql("UPDATE payment SET cents = cents - ? WHERE order_id = ?")
                .params(cents, orderId)
                .update();
    }
}
