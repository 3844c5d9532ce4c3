package dev.txoutbox.modulith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.txoutbox.OutboxException;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.expression.spel.SpelEvaluationException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.modulith.events.EventExternalizationConfiguration;
import org.springframework.modulith.events.EventExternalized;
import org.springframework.modulith.events.ExternalizationMode;
import org.springframework.modulith.events.Externalized;
import org.springframework.modulith.events.RoutingTarget;
import org.springframework.modulith.events.config.EventExternalizationAutoConfiguration;
import org.springframework.modulith.events.support.EventExternalizerModuleListener;
import org.springframework.transaction.support.TransactionTemplate;

/** Which Spring Modulith events become outbox rows, with which routing, and in whose transaction; real PostgreSQL. */
class ExternalizedEventRecorderTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
                    EventExternalizationAutoConfiguration.class,
                    OutboxModulithAutoConfiguration.class))
            .withUserConfiguration(Database.class)
            .withPropertyValues(ExternalizationMode.PROPERTY + "=outbox", "outbox.relay.notify.enabled=false");

    @Test
    void anExternalizedEventIsWrittenWithItsRoutedTopicAndKeyInThePublishingTransaction() {
        this.runner.run(context -> {
            inTransaction(context, () -> context.publishEvent(new OrderPlaced("order-1", "customer-7")));

            assertThat(rows(context))
                    .containsExactly(Map.of(
                            "topic", "orders",
                            "record_key", "customer-7",
                            "event_type", "OrderPlaced",
                            "payload", "{\"orderId\":\"order-1\",\"customerId\":\"customer-7\"}",
                            "headers", "{}"));
        });
    }

    @Test
    void writingAnEventPublishesEventExternalizedWithItsRoutingInThePublishingTransaction() {
        this.runner.withUserConfiguration(ExternalizedEvents.class).run(context -> {
            List<EventExternalized<?, ?>> seen = context.getBean(ExternalizedEvents.class).seen;
            inTransaction(context, () -> {
                context.publishEvent(new OrderPlaced("order-1", "customer-7"));
                // Announced when the row is written, so within the transaction that writes it.
                assertThat(seen).hasSize(1);
            });

            assertThat(seen).singleElement().satisfies(externalized -> {
                assertThat(externalized.getEvent()).isEqualTo(new OrderPlaced("order-1", "customer-7"));
                assertThat(externalized.getTarget()).hasToString("orders::#{customerId}");
            });
        });
    }

    @Test
    void anEventRoutedWithoutAKeyIsWrittenWithoutOne() {
        this.runner.run(context -> {
            inTransaction(context, () -> context.publishEvent(new StockCounted("sku-1", "stock")));

            assertThat(rows(context))
                    .extracting(row -> row.get("topic"), row -> row.get("record_key"))
                    .containsExactly(tuple("stock", null));
        });
    }

    @Test
    void eventsThatAreNotExternalizedAreNotWritten() {
        this.runner.run(context -> {
            inTransaction(context, () -> {
                context.publishEvent(new OrderNoted("order-1"));
                context.publishEvent("a plain string event");
            });

            assertThat(rows(context)).isEmpty();
        });
    }

    @Test
    void aRollbackLeavesNoRow() {
        this.runner.run(context -> {
            new TransactionTemplate(context.getBean(DataSourceTransactionManager.class))
                    .executeWithoutResult(status -> {
                        context.publishEvent(new OrderPlaced("order-1", "customer-7"));
                        status.setRollbackOnly();
                    });

            assertThat(rows(context)).isEmpty();
        });
    }

    @Test
    void anExternalizedEventPublishedWithoutATransactionFailsWithTheOutboxsMessage() {
        this.runner.run(context -> {
            assertThatExceptionOfType(OutboxException.class)
                    .isThrownBy(() -> context.publishEvent(new OrderPlaced("order-1", "customer-7")))
                    .withMessageStartingWith("Spring Modulith event " + OrderPlaced.class.getName()
                            + " (routed to orders::#{customerId}) could not be written to the outbox:")
                    .withMessageContaining("needs an active transaction, and there is none");
            assertThat(rows(context)).isEmpty();
        });
    }

    @Test
    void theApplicationsConfigurationSelectsRoutesMapsAndAddsHeaders() {
        this.runner.withUserConfiguration(InvoiceExternalization.class).run(context -> {
            inTransaction(context, () -> {
                context.publishEvent(new InvoiceIssued("INV-9", "customer-7", 4200));
                context.publishEvent(new OrderPlaced("order-1", "customer-7"));
            });

            assertThat(rows(context))
                    .as("the application's configuration replaces the @Externalized default")
                    .containsExactly(Map.of(
                            "topic", "invoices",
                            "record_key", "INV-9",
                            "event_type", "InvoiceIssued",
                            "payload", "{\"number\":\"INV-9\",\"cents\":4200}",
                            "headers", "{\"schema\": \"invoice-v2\", \"tenant\": \"customer-7\"}"));
        });
    }

    @Test
    void inAnotherModeOrWithExternalizationOffNothingIsWritten() {
        this.runner
                .withPropertyValues(ExternalizationMode.PROPERTY + "=module-listener")
                .run(context -> assertThat(context).doesNotHaveBean(ExternalizedEventRecorder.class));
        this.runner
                .withPropertyValues("spring.modulith.events.externalization.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(ExternalizedEventRecorder.class));
        this.runner.run(context -> assertThat(context).hasSingleBean(ExternalizedEventRecorder.class));
    }

    @Test
    void aModulithListenerThatAlsoExternalizesFailsStartUpRatherThanPublishTwice() {
        this.runner
                .withUserConfiguration(SecondExternalization.class)
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("also has Modulith's own externalizing listener [kafkaExternalizer]")
                        .hasMessageContaining(ExternalizationMode.PROPERTY + "=module-listener"));
    }

    @Test
    void theModuleMakesOutboxTheDefaultModeAndTheApplicationsOwnSettingWins() {
        StandardEnvironment environment = new StandardEnvironment();
        new OutboxExternalizationMode().postProcessEnvironment(environment, new SpringApplication());
        assertThat(environment.getProperty(ExternalizationMode.PROPERTY)).isEqualTo("outbox");

        StandardEnvironment own = new StandardEnvironment();
        own.getPropertySources()
                .addFirst(
                        new MapPropertySource("application", Map.of(ExternalizationMode.PROPERTY, "module-listener")));
        new OutboxExternalizationMode().postProcessEnvironment(own, new SpringApplication());
        assertThat(own.getProperty(ExternalizationMode.PROPERTY)).isEqualTo("module-listener");
    }

    @Test
    void aRoutingExpressionThatFailsNamesTheEventAndItsRouting() {
        this.runner.run(context -> assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(
                        () -> inTransaction(context, () -> context.publishEvent(new OrderMistyped("order-1", "c-7"))))
                .withMessageContaining("Spring Modulith event " + OrderMistyped.class.getName())
                .withMessageContaining("orders::#{customerID}")
                .withMessageContaining("@Externalized value or the route(...) function"));
    }

    /** A route function that keys by a value of the event: a value holding "#{...}" stays text, never SpEL. */
    @Test
    void aKeyTakenFromTheEventsDataIsNotEvaluatedAsAnExpression() {
        String number = "#{T(java.lang.System).getProperty('java.version')}";
        this.runner.withUserConfiguration(KeyFromData.class).run(context -> {
            inTransaction(context, () -> context.publishEvent(new InvoiceNumbered(number)));

            assertThat(rows(context)).extracting(row -> row.get("record_key")).containsExactly(number);
        });
    }

    @Test
    void anExternalizedTemplateCannotReferToTypes() {
        this.runner.run(context -> assertThatExceptionOfType(OutboxException.class)
                .isThrownBy(() -> inTransaction(context, () -> context.publishEvent(new VersionKeyed("order-1"))))
                .withMessageContaining("could not be routed")
                .withRootCauseInstanceOf(SpelEvaluationException.class));
    }

    private static void inTransaction(AssertableApplicationContext context, Runnable work) {
        new TransactionTemplate(context.getBean(DataSourceTransactionManager.class))
                .executeWithoutResult(status -> work.run());
    }

    private static List<Map<String, Object>> rows(AssertableApplicationContext context) {
        return new JdbcTemplate(context.getBean(DataSource.class))
                .queryForList("select topic, record_key, event_type, convert_from(payload, 'UTF8') as payload,"
                        + " headers::text as headers from outbox_event order by id");
    }

    @Externalized("orders::#{customerId}")
    record OrderPlaced(String orderId, String customerId) {}

    record OrderNoted(String orderId) {}

    @Externalized("#{topic}")
    record StockCounted(String sku, String topic) {}

    record InvoiceIssued(String number, String customerId, long cents) {}

    record InvoiceMessage(String number, long cents) {}

    @Externalized("orders::#{customerID}")
    record OrderMistyped(String orderId, String customerId) {}

    @Externalized("orders::#{T(java.lang.System).getProperty('java.version')}")
    record VersionKeyed(String orderId) {}

    record InvoiceNumbered(String number) {}

    @Configuration(proxyBeanMethods = false)
    static class KeyFromData {

        @Bean
        EventExternalizationConfiguration eventExternalizationConfiguration() {
            return EventExternalizationConfiguration.externalizing()
                    .selectByType(InvoiceNumbered.class)
                    .route(
                            InvoiceNumbered.class,
                            invoice -> RoutingTarget.forTarget("invoices").andKey(invoice.number()))
                    .build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    static class Database {

        @Bean(destroyMethod = "close")
        DataSource dataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }

        @Bean
        DataSourceTransactionManager transactionManager(DataSource dataSource) {
            return new DataSourceTransactionManager(dataSource);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class InvoiceExternalization {

        @Bean
        EventExternalizationConfiguration eventExternalizationConfiguration() {
            return EventExternalizationConfiguration.externalizing()
                    .selectByType(InvoiceIssued.class)
                    .route(
                            InvoiceIssued.class,
                            invoice -> RoutingTarget.forTarget("invoices").andKey(invoice.number()))
                    .headers(InvoiceIssued.class, invoice -> Map.of("tenant", invoice.customerId()))
                    .mapping(InvoiceIssued.class, invoice -> new InvoiceMessage(invoice.number(), invoice.cents()))
                    .headers(InvoiceMessage.class, message -> Map.of("schema", "invoice-v2"))
                    .build();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class ExternalizedEvents {

        final List<EventExternalized<?, ?>> seen = new CopyOnWriteArrayList<>();

        @EventListener
        void on(EventExternalized<?, ?> externalized) {
            this.seen.add(externalized);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class SecondExternalization {

        @Bean
        EventExternalizerModuleListener kafkaExternalizer(EventExternalizationConfiguration configuration) {
            return new EventExternalizerModuleListener(
                    configuration, (payload, target) -> CompletableFuture.completedFuture(null));
        }
    }
}
