package dev.txoutbox.modulith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.modulith.events.EventExternalizationConfiguration;
import org.springframework.modulith.events.ExternalizationMode;
import org.springframework.modulith.events.Externalized;
import org.springframework.modulith.events.RoutingTarget;
import org.springframework.modulith.events.config.EventExternalizationAutoConfiguration;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A routing expression with a typo: the SpEL failure is thrown before the recorder's try block, so it reaches the
 * publisher as a bare SpelEvaluationException, without the "Spring Modulith event ... (routed to ...) could not be
 * written to the outbox" context that the other failures get (docs/modulith.md, Failures).
 */
class RoutingExpressionFailureTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    OutboxStoreAutoConfiguration.class,
                    OutboxWriterAutoConfiguration.class,
                    EventExternalizationAutoConfiguration.class,
                    OutboxModulithAutoConfiguration.class))
            .withUserConfiguration(Database.class)
            .withPropertyValues(ExternalizationMode.PROPERTY + "=outbox", "outbox.relay.notify.enabled=false");

    @Test
    void aRoutingExpressionThatFailsNamesTheEventAndItsRouting() {
        this.runner.run(context -> assertThatThrownBy(() -> new TransactionTemplate(
                                context.getBean(DataSourceTransactionManager.class))
                        .executeWithoutResult(status -> context.publishEvent(new OrderMistyped("order-1", "c-7"))))
                .hasMessageContaining("Spring Modulith event")
                .hasMessageContaining("orders::#{customerID}"));
    }

    /**
     * A route function that keys by a value of the event (as docs/modulith.md shows, andKey(invoice.number())): a
     * value that holds "#{...}" is evaluated as SpEL in a StandardEvaluationContext, with type references and beans.
     * Modulith's own Kafka externalization evaluates it the same way; a SimpleEvaluationContext would not.
     */
    @Test
    void aKeyTakenFromTheEventsDataIsNotEvaluatedAsAnExpression() {
        String number = "#{T(java.lang.System).getProperty('java.version')}";
        this.runner.withUserConfiguration(KeyFromData.class).run(context -> {
            new TransactionTemplate(context.getBean(DataSourceTransactionManager.class))
                    .executeWithoutResult(status -> context.publishEvent(new InvoiceIssued(number)));
            assertThat(new JdbcTemplate(context.getBean(DataSource.class))
                            .queryForObject("select record_key from outbox_event", String.class))
                    .isEqualTo(number);
        });
    }

    record InvoiceIssued(String number) {}

    @Configuration(proxyBeanMethods = false)
    static class KeyFromData {

        @Bean
        EventExternalizationConfiguration eventExternalizationConfiguration() {
            return EventExternalizationConfiguration.externalizing()
                    .selectByType(InvoiceIssued.class)
                    .route(
                            InvoiceIssued.class,
                            invoice -> RoutingTarget.forTarget("invoices").andKey(invoice.number()))
                    .build();
        }
    }

    @Externalized("orders::#{customerID}")
    record OrderMistyped(String orderId, String customerId) {}

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
}
