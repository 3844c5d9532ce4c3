package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import brave.Tracing;
import brave.propagation.ThreadLocalCurrentTraceContext;
import dev.txoutbox.Outbox;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TopicReader;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.brave.bridge.W3CPropagation;
import io.micrometer.tracing.propagation.Propagator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The trace of the request that wrote an event continues in the consumer of its record. */
class OutboxTracingTests {

    private final Tracing tracing = Tracing.newBuilder()
            .propagationFactory(new W3CPropagation())
            .currentTraceContext(ThreadLocalCurrentTraceContext.create())
            .build();

    private final List<Observation.Context> observed = new CopyOnWriteArrayList<>();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withBean(
                    Tracer.class,
                    () -> new BraveTracer(
                            this.tracing.tracer(),
                            new BraveCurrentTraceContext(this.tracing.currentTraceContext()),
                            new BraveBaggageManager()))
            .withBean(Propagator.class, () -> new BravePropagator(this.tracing))
            .withBean(ObservationRegistry.class, this::observationRegistry)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void theConsumerSeesTheWritersTraceIdAndTheRelaysPublishIsObserved() {
        String topic = EmbeddedInfrastructure.newTopic("traced", 1);
        this.runner.run(context -> {
            Tracer tracer = context.getBean(Tracer.class);
            TransactionTemplate transactions =
                    new TransactionTemplate(new DataSourceTransactionManager(context.getBean(DataSource.class)));
            Span request = tracer.nextSpan().name("POST /orders").start();
            try (Tracer.SpanInScope scope = tracer.withSpan(request)) {
                transactions.executeWithoutResult(
                        status -> context.getBean(Outbox.class).write(topic, "order-1", "{}"));
            } finally {
                request.end();
            }

            try (TopicReader reader = new TopicReader(topic)) {
                ConsumerRecord<String, byte[]> record =
                        reader.awaitRecords(1, Duration.ofSeconds(30)).get(0);
                assertThat(record.headers().lastHeader("traceparent")).isNotNull();
                Span consumer = context.getBean(Propagator.class)
                        .extract(record, OutboxTracingTests::header)
                        .name("consume order-1")
                        .start();
                assertThat(consumer.context().traceId())
                        .isEqualTo(request.context().traceId());
                consumer.end();
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            this.observed.stream().anyMatch(c -> c.getName().equals("outbox.relay.publish")));
            Observation.Context publish = this.observed.stream()
                    .filter(c -> c.getName().equals("outbox.relay.publish"))
                    .findFirst()
                    .orElseThrow();
            assertThat(publish.getLowCardinalityKeyValue("outbox.table").getValue())
                    .isEqualTo("outbox_event");
            assertThat(publish.getLowCardinalityKeyValue("outbox.outcome").getValue())
                    .isEqualTo("published");
        });
    }

    @Test
    void withoutACurrentSpanNoTraceHeadersAreWritten() {
        String topic = EmbeddedInfrastructure.newTopic("untraced", 1);
        this.runner.run(context -> {
            TransactionTemplate transactions =
                    new TransactionTemplate(new DataSourceTransactionManager(context.getBean(DataSource.class)));
            transactions.executeWithoutResult(
                    status -> context.getBean(Outbox.class).write(topic, "k", "{}"));

            try (TopicReader reader = new TopicReader(topic)) {
                ConsumerRecord<String, byte[]> record =
                        reader.awaitRecords(1, Duration.ofSeconds(30)).get(0);
                assertThat(record.headers().lastHeader("traceparent")).isNull();
            }
        });
    }

    private ObservationRegistry observationRegistry() {
        ObservationRegistry registry = ObservationRegistry.create();
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public void onStop(Observation.Context context) {
                OutboxTracingTests.this.observed.add(context);
            }

            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }
        });
        return registry;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header != null ? new String(header.value(), StandardCharsets.UTF_8) : null;
    }
}
