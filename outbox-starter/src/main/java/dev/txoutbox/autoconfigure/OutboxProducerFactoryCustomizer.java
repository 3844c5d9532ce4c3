package dev.txoutbox.autoconfigure;

import org.springframework.kafka.core.DefaultKafkaProducerFactory;

/**
 * Adjusts the producer factory of the relay's own Kafka producer before the relay uses it: add a
 * {@link org.springframework.kafka.core.ProducerPostProcessor} or a
 * {@link org.springframework.kafka.core.ProducerFactory.Listener} (to instrument the producer, for instance), or
 * change a setting that properties cannot express. Every bean of this type is applied, in their
 * {@link org.springframework.core.Ordered order}, to the factory configured from {@code spring.kafka.producer.*} and
 * {@code outbox.relay.producer.*}; the result is checked as the Kafka client would check it before the application
 * starts.
 *
 * <p>The settings the outbox's guarantees rest on ({@code acks=all}, {@code enable.idempotence=true}, the key
 * serializer and the byte-array value serializer) must stay as they are: a row is deleted once the broker acknowledged its record.
 * The customizer does not apply to a {@link dev.txoutbox.relay.RecordPublisher} bean of the application's own.
 */
@FunctionalInterface
public interface OutboxProducerFactoryCustomizer {

    /**
     * Adjusts the relay's producer factory.
     *
     * @param producerFactory the factory of the relay's producer, which has not created a producer yet
     */
    void customize(DefaultKafkaProducerFactory<String, byte[]> producerFactory);
}
