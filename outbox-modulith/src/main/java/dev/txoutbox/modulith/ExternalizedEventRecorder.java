package dev.txoutbox.modulith;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.PayloadApplicationEvent;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.EvaluationContext;
import org.springframework.modulith.events.EventExternalizationConfiguration;
import org.springframework.modulith.events.EventExternalized;
import org.springframework.modulith.events.Externalized;
import org.springframework.modulith.events.RoutingTarget;
import org.springframework.modulith.events.support.BrokerRouting;
import org.springframework.modulith.events.support.OutboxEventExternalizerFactory;

/**
 * Writes the events that the {@link EventExternalizationConfiguration} selects to the outbox, while they are
 * published: a listener that Spring calls synchronously, so the row joins the publisher's transaction and is
 * published if and only if it commits. Selection, routing target, mapping and {@link EventExternalized} are Spring
 * Modulith's own, through the externalizer of its {@code outbox} mode; the transport given to it writes the row: the
 * target is the topic, the key the record key, the configuration's headers for the event and for its mapped payload
 * become record headers, the event type is the published event's simple class name.
 */
final class ExternalizedEventRecorder implements ApplicationListener<PayloadApplicationEvent<?>> {

    private static final Logger log = LoggerFactory.getLogger(ExternalizedEventRecorder.class);

    private final EventExternalizationConfiguration configuration;

    private final OutboxEventExternalizerFactory externalizers;

    private final Outbox outbox;

    private final EvaluationContext evaluation;

    ExternalizedEventRecorder(
            EventExternalizationConfiguration configuration,
            OutboxEventExternalizerFactory externalizers,
            Outbox outbox,
            EvaluationContext evaluation) {
        this.configuration = configuration;
        this.externalizers = externalizers;
        this.outbox = outbox;
        this.evaluation = evaluation;
    }

    @Override
    public void onApplicationEvent(PayloadApplicationEvent<?> event) {
        Object payload = event.getPayload();
        // The externalizer announces each write with an EventExternalized, which must not be externalized in turn.
        if (payload instanceof EventExternalized<?, ?> || !this.configuration.supports(payload)) {
            return;
        }
        // An externalizer per event: the transport sees only the mapped payload, and the row needs the event too.
        CompletableFuture<?> written = this.externalizers
                .forTransport((mapped, target) -> write(payload, mapped, target))
                .externalize(payload);
        try {
            // The transport completes before it returns, so this never waits; it surfaces the write's failure.
            written.join();
        } catch (CompletionException ex) {
            if (ex.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw ex;
        }
    }

    private CompletableFuture<?> write(Object event, Object mapped, RoutingTarget target) {
        String type = event.getClass().getSimpleName();
        OutboxMessage.Builder message;
        try {
            message = route(event, mapped, target).payload(mapped).type(type);
        } catch (RuntimeException ex) {
            throw new OutboxException(
                    ("Spring Modulith event %s (routed to %s) could not be routed: %s. Check the @Externalized value"
                                    + " or the route(...) function of its EventExternalizationConfiguration.")
                            .formatted(event.getClass().getName(), target, ex.getMessage()),
                    ex);
        }
        // Extractors are registered per type: those of the published event's, and of the mapped payload's as
        // Modulith's Kafka externalization applies them.
        for (Object source : mapped == event ? List.of(event) : List.of(event, mapped)) {
            this.configuration
                    .getHeadersFor(source)
                    .forEach((name, value) -> message.header(name, String.valueOf(value)));
        }
        try {
            this.outbox.write(message.build());
        } catch (OutboxException ex) {
            throw new OutboxException(
                    "Spring Modulith event %s (routed to %s) could not be written to the outbox: %s"
                            .formatted(event.getClass().getName(), target, ex.getMessage()),
                    ex);
        }
        log.debug("Outbox: wrote Spring Modulith event {} routed to {}", type, target);
        return CompletableFuture.completedFuture(null);
    }

    /**
     * Templates ({@code #{...}}) are evaluated only where the application declared them, in the event type's
     * {@code @Externalized} value; a target a route function computes is taken as it is, so that a key taken from
     * event data is never run as an expression.
     */
    private OutboxMessage.Builder route(Object event, Object mapped, RoutingTarget target) {
        if (!declared(event, target)) {
            return OutboxMessage.to(target.getTarget()).key(target.getKey());
        }
        BrokerRouting routing = BrokerRouting.of(target, this.evaluation);
        // Modulith's SpEL routing answers the target's text for a missing key; a record without one is meant.
        return OutboxMessage.to(routing.getTarget(mapped)).key(target.getKey() != null ? routing.getKey(mapped) : null);
    }

    private static boolean declared(Object event, RoutingTarget target) {
        @Nullable
        Externalized annotation = AnnotatedElementUtils.findMergedAnnotation(event.getClass(), Externalized.class);
        if (annotation == null) {
            return false;
        }
        String[] parts = annotation.value().split("::", 2);
        boolean sameTarget = parts[0].isBlank() || parts[0].trim().equals(target.getTarget());
        @Nullable String key = parts.length == 2 ? parts[1].trim() : null;
        return sameTarget && Objects.equals(key, target.getKey());
    }
}
