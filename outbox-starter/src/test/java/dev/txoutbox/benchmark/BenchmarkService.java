package dev.txoutbox.benchmark;

import dev.txoutbox.OutboxEvent;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** The same JPA insert, once with an outbox event and once without. */
@Service
public class BenchmarkService {

    private final BenchmarkOrders orders;

    BenchmarkService(BenchmarkOrders orders) {
        this.orders = orders;
    }

    /** The event the annotated insert writes: about 1 KiB of JSON, with its aggregate's key. */
    public record OrderPlaced(long id, String aggregate, String customer, String data) {

        static OrderPlaced of(BenchmarkOrder order, String customer, String data) {
            return new OrderPlaced(order.getId(), Workload.key(order.getId().intValue()), customer, data);
        }
    }

    @Transactional
    @OutboxEvent(topic = "${benchmark.topic}", key = "#result.aggregate()")
    public OrderPlaced placeWithEvent(String customer, String data) {
        return OrderPlaced.of(this.orders.save(new BenchmarkOrder(customer, data)), customer, data);
    }

    /**
     * The insert with an event without a key, which takes no key lock: against {@link #placeWithEvent}, what the lock
     * that makes the writers of one key take turns costs a writer.
     */
    @Transactional
    @OutboxEvent(topic = "${benchmark.topic}")
    public OrderPlaced placeWithKeylessEvent(String customer, String data) {
        return OrderPlaced.of(this.orders.save(new BenchmarkOrder(customer, data)), customer, data);
    }

    /** The insert without the event, but with a second business row of the same size: what any second row costs. */
    @Transactional
    public OrderPlaced placeTwiceWithoutEvent(String customer, String data) {
        this.orders.save(new BenchmarkOrder(customer, data));
        return placeWithoutEvent(customer, data);
    }

    @Transactional
    public OrderPlaced placeWithoutEvent(String customer, String data) {
        return OrderPlaced.of(this.orders.save(new BenchmarkOrder(customer, data)), customer, data);
    }
}
