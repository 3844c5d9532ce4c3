package dev.txoutbox;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Writes an event to the outbox when the annotated method returns normally, in the caller's transaction: the event
 * is published to Kafka if and only if that transaction commits. A method that throws writes nothing. A method
 * called with no active transaction fails before it runs, with an {@link OutboxException}.
 *
 * <pre class="code">
 * &#064;Transactional
 * &#064;OutboxEvent(topic = "orders", key = "#result.id")
 * public Order placeOrder(PlaceOrder command) { ... }
 * </pre>
 *
 * <p>{@link #key()}, {@link #payload()} and {@link #condition()} are SpEL expressions over the method's arguments
 * (by name when compiled with {@code -parameters}, which Spring Boot's parent POM does; always as {@code #p0},
 * {@code #a0}, ...), the return value as {@code #result}, and beans as {@code @beanName}. The annotation is
 * repeatable, so one method can write several events.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Repeatable(OutboxEvents.class)
public @interface OutboxEvent {

    /** The Kafka topic; {@code ${...}} placeholders are resolved against the environment. Required. */
    String topic();

    /**
     * SpEL expression for the record key: the unit of ordering (events of one key are published in order) and of
     * compaction. Its value is turned into text with {@code toString()}. Empty: the record has no key. An
     * expression that yields {@code null} is an error.
     */
    String key() default "";

    /**
     * SpEL expression for the payload. Empty: the method's return value. A {@code null} payload is a tombstone: the
     * Kafka record's value is null, which needs a key. A {@code byte[]} payload is sent as it is;
     * anything else goes through the {@link OutboxPayloadSerializer} (by default a {@code String} as UTF-8, anything
     * else as JSON).
     */
    String payload() default "";

    /**
     * The event type, sent as the {@code outbox-event-type} header. Empty: the simple class name of the payload,
     * or {@code "Tombstone"} for a null payload.
     */
    String type() default "";

    /** SpEL condition: the event is written only when it is {@code true}. Empty: always. */
    String condition() default "";

    /** Extra Kafka headers. */
    Header[] headers() default {};

    /**
     * An extra Kafka header of the event.
     *
     * <p>The value is a template: literal text, with SpEL expressions inside {@code #{...}}, for example
     * {@code "v2"} or {@code "#{#command.tenantId}"}.
     */
    @Target({})
    @Retention(RetentionPolicy.RUNTIME)
    @Documented
    @interface Header {

        /** The header's name. */
        String name();

        /** The header's value, a template. */
        String value();
    }
}
