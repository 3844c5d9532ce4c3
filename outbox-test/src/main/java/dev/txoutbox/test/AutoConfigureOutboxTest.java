package dev.txoutbox.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;

/**
 * Adds the outbox test kit to a test's application context: a {@link WrittenEvents} bean that shows the events the
 * test wrote, and an {@link OutboxDrain} bean that waits until the relay has published them.
 *
 * <p>On a {@code @SpringBootTest} it adds the kit to the application's own outbox. On a slice test (such as
 * {@code @DataJpaTest} or {@code @JdbcTest}), which leaves the application's auto-configurations out, it also brings the
 * outbox's store and writer, so that annotated methods write their events; never the relay, so that a slice test
 * needs no Kafka. The auto-configurations it imports are listed in
 * {@code META-INF/spring/dev.txoutbox.test.AutoConfigureOutboxTest.imports}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ImportAutoConfiguration
public @interface AutoConfigureOutboxTest {}
