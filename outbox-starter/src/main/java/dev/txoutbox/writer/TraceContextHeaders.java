package dev.txoutbox.writer;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * The current span's context as propagation headers (W3C {@code traceparent}, or whatever the application's
 * propagator writes), kept with each outbox event so that the relay sends it on and a consumer continues the trace
 * of the request that wrote the event. Empty when there is no tracer or no current span.
 */
final class TraceContextHeaders implements Supplier<Map<String, String>>, SmartInitializingSingleton {

    private final ObjectProvider<Tracer> tracer;

    private final ObjectProvider<Propagator> propagator;

    /** The beans, looked up once all singletons exist; until then, looked up for each event. */
    private volatile @Nullable Beans beans;

    TraceContextHeaders(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
        this.tracer = tracer;
        this.propagator = propagator;
    }

    @Override
    public void afterSingletonsInstantiated() {
        this.beans = lookUp();
    }

    @Override
    public Map<String, String> get() {
        Beans current = this.beans;
        if (current == null) {
            current = lookUp();
        }
        Span span = current.tracer() != null ? current.tracer().currentSpan() : null;
        if (span == null || current.propagator() == null) {
            return Map.of();
        }
        Map<String, String> headers = new HashMap<>();
        current.propagator().inject(span.context(), headers, Map::put);
        return headers;
    }

    private Beans lookUp() {
        return new Beans(this.tracer.getIfUnique(), this.propagator.getIfUnique());
    }

    private record Beans(@Nullable Tracer tracer, @Nullable Propagator propagator) {}
}
