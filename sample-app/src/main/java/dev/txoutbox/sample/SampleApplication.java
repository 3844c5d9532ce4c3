package dev.txoutbox.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * An order service that writes its order events through the transactional outbox, and a downstream consumer that
 * keeps a read model from them.
 *
 * <p>The write side lives in {@code dev.txoutbox.sample.order}: a REST call changes an order and, in the same
 * transaction, writes the event to the outbox. The relay publishes it to Kafka. The read side lives in
 * {@code dev.txoutbox.sample.readmodel} and knows the write side only through the topic, as another service would.
 */
@SpringBootApplication
public class SampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(SampleApplication.class, args);
    }
}
