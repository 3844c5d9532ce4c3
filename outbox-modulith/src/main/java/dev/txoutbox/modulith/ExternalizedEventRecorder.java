package dev.txoutbox.modulith;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxException;
import dev.txoutbox.OutboxMessage;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.PayloadApplicationEvent;
import org.springframework.expression.EvaluationContext;
import org.springframework.modulith.events.EventExternalizationConfiguration;
import org.springframework.modulith.events.RoutingTarget;
import org.springframework.modulith.events.support.BrokerRouting;

/**
 * Writes the events that the {@link EventExternalizationConfiguration} selects to the outbox, while they are
 * published: a listener that Spring calls synchronously, so the row joins the publisher's transaction and is
 * published if and only if it commits. Routing follows Spring Modulith's Kafka externalization: the target is the
 * topic, the key the record key, both SpEL templates ({@code #{...}}) over the mapped event; the configuration's
 * headers for the event and for its mapped payload become record headers; the event type is the published event's
 * simple class name.
 */
final class ExternalizedEventRecorder implements ApplicationListener<PayloadApplicationEvent<?>> {

    private static final Logger log = LoggerFactory.getLogger(ExternalizedEventRecorder.class);

    private final EventExternalizationConfiguration configuration;

    private final Outbox outbox;

    private final EvaluationContext evaluation;

    ExternalizedEventRecorder(
            EventExternalizationConfiguration configuration, Outbox outbox, EvaluationContext evaluation) {
        this.configuration = configuration;
        this.outbox = outbox;
        this.evaluation = evaluation;
    }

    @Override
    public void onApplicationEvent(PayloadApplicationEvent<?> event) {
        Object payload = event.getPayload();
        if (!this.configuration.supports(payload)) {
            return;
        }
        RoutingTarget target = this.configuration.determineTarget(payload);
        Object mapped = this.configuration.map(payload);
        BrokerRouting routing = BrokerRouting.of(target, this.evaluation);
        String type = payload.getClass().getSimpleName();
        OutboxMessage.Builder message = OutboxMessage.to(routing.getTarget(mapped))
                // Modulith's SpEL routing answers the target's text for a missing key; a record without one is meant.
                .key(target.getKey() != null ? routing.getKey(mapped) : null)
                .payload(mapped)
                .type(type);
        // Extractors are registered per type: those of the published event's, and of the mapped payload's as
        // Modulith's Kafka externalization applies them.
        for (Object source : mapped == payload ? List.of(payload) : List.of(payload, mapped)) {
            this.configuration
                    .getHeadersFor(source)
                    .forEach((name, value) -> message.header(name, String.valueOf(value)));
        }
        try {
            this.outbox.write(message.build());
        } catch (OutboxException ex) {
            throw new OutboxException(
                    "Spring Modulith event %s (routed to %s) could not be written to the outbox: %s"
                            .formatted(payload.getClass().getName(), target, ex.getMessage()),
                    ex);
        }
        log.debug("Outbox: wrote Spring Modulith event {} routed to {}", type, target);
    }
}
