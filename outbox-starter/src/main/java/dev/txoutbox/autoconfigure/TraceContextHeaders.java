package dev.txoutbox.autoconfigure;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.beans.factory.ObjectProvider;

/**
 * The current span's context as propagation headers (W3C {@code traceparent}, or whatever the application's
 * propagator writes), kept with each outbox event so that the relay sends it on and a consumer continues the trace
 * of the request that wrote the event. Empty when there is no tracer or no current span.
 */
final class TraceContextHeaders implements Supplier<Map<String, String>> {

    private final ObjectProvider<Tracer> tracer;

    private final ObjectProvider<Propagator> propagator;

    TraceContextHeaders(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
        this.tracer = tracer;
        this.propagator = propagator;
    }

    @Override
    public Map<String, String> get() {
        Tracer currentTracer = this.tracer.getIfUnique();
        Propagator currentPropagator = this.propagator.getIfUnique();
        Span span = currentTracer != null ? currentTracer.currentSpan() : null;
        if (span == null || currentPropagator == null) {
            return Map.of();
        }
        Map<String, String> headers = new HashMap<>();
        currentPropagator.inject(span.context(), headers, Map::put);
        return headers;
    }
}
