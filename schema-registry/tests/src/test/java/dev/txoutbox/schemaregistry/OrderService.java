package dev.txoutbox.schemaregistry;

import dev.txoutbox.OutboxEvent;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Places orders and announces each with an Avro event of the schema the caller gives. */
@Service
class OrderService {

    private final JdbcClient jdbc;

    OrderService(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    @OutboxEvent(topic = "${test.topic}", key = "#orderId", type = "OrderPlaced")
    public GenericRecord place(String orderId, long amount, Schema schema) {
        this.jdbc
                .sql("INSERT INTO orders (id, amount) VALUES (?, ?)")
                .params(orderId, amount)
                .update();
        GenericRecord event = new GenericData.Record(schema);
        event.put("id", orderId);
        event.put("amount", amount);
        if (schema.getField("currency") != null) {
            event.put("currency", "EUR");
        }
        return event;
    }

    boolean exists(String orderId) {
        return this.jdbc
                        .sql("SELECT count(*) FROM orders WHERE id = ?")
                        .param(orderId)
                        .query(Long.class)
                        .single()
                > 0;
    }

    long outboxRows(String orderId) {
        return this.jdbc
                .sql("SELECT count(*) FROM outbox_event WHERE record_key = ?")
                .param(orderId)
                .query(Long.class)
                .single();
    }
}
