package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.txoutbox.Outbox;
import dev.txoutbox.OutboxEvent;
import dev.txoutbox.OutboxException;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.io.UrlResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.StringUtils;

/** The outbox on one of two real PostgreSQL databases: which one, in whose transactions, and the start-up failures. */
class OutboxDataSourceSelectionTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxWriterAutoConfiguration.class))
            .withUserConfiguration(TwoDatabases.class)
            .withPropertyValues("outbox.relay.notify.enabled=false");

    @Test
    void theNamedDataSourceGetsTheTablesAndTheRowsInItsTransactionManagersTransactions() {
        this.runner
                .withPropertyValues(
                        "outbox.datasource=ordersDataSource", "outbox.transaction-manager=ordersTransactionManager")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    DataSource orders = context.getBean("ordersDataSource", DataSource.class);
                    DataSource billing = context.getBean("billingDataSource", DataSource.class);
                    assertThat(context.getBean(OutboxStore.class).dataSource()).isSameAs(orders);

                    context.getBean(OrderService.class).placeOrder("order-1");

                    assertThat(outboxRows(orders)).isEqualTo(1);
                    assertThat(hasOutboxTable(billing))
                            .as("the outbox's migrations ran on the named DataSource only")
                            .isFalse();
                });
    }

    @Test
    void anEventWrittenInTheOtherDataSourcesTransactionFailsAndWritesNothing() {
        this.runner.withPropertyValues("outbox.datasource=ordersDataSource").run(context -> {
            assertThatExceptionOfType(OutboxException.class)
                    .isThrownBy(() -> context.getBean(OrderService.class).placeOrderInBillingsTransaction("order-2"))
                    .withMessageContaining("OrderService.placeOrderInBillingsTransaction")
                    .withMessageContaining("does not hold a connection of the outbox's DataSource");
            assertThatExceptionOfType(OutboxException.class)
                    .isThrownBy(() -> new TransactionTemplate(
                                    context.getBean("billingTransactionManager", DataSourceTransactionManager.class))
                            .executeWithoutResult(
                                    status -> context.getBean(Outbox.class).write("orders", "order-3", "{}")))
                    .withMessageContaining("does not hold a connection of the outbox's DataSource");
            assertThat(outboxRows(context.getBean("ordersDataSource", DataSource.class)))
                    .isZero();
        });
    }

    @Test
    void twoDataSourcesAndNoneNamedFailStartUpWithAnAnalysisNamingThemAndTheProperty() {
        this.runner.run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription())
                    .isEqualTo("The outbox needs to know which DataSource holds its tables, and the application has"
                            + " 2: ordersDataSource, billingDataSource, none of them @Primary.");
            assertThat(analysis.getAction())
                    .contains("Set outbox.datasource to the name of the DataSource bean that holds the outbox tables"
                            + " (the application's: ordersDataSource, billingDataSource)")
                    .contains("outbox.transaction-manager")
                    .contains("Or mark one of the DataSource beans @Primary.");
        });
    }

    @Test
    void aPrimaryDataSourceIsTheOutboxsWithoutAName() {
        this.runner.withUserConfiguration(PrimaryBilling.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(OutboxStore.class).dataSource())
                    .isSameAs(context.getBean("primaryBillingDataSource", DataSource.class));
        });
    }

    @Test
    void aNamedBeanThatDoesNotExistFailsStartUpWithTheCandidates() {
        this.runner.withPropertyValues("outbox.datasource=orderDataSource").run(context -> {
            FailureAnalysis analysis = analysis(context);
            assertThat(analysis.getDescription())
                    .isEqualTo("outbox.datasource names the bean 'orderDataSource', and the application has no bean of"
                            + " that name.");
            assertThat(analysis.getAction()).contains("(the application's: ordersDataSource, billingDataSource)");
        });
    }

    @Test
    void aNamedBeanThatIsNotADataSourceFailsStartUpSayingWhatItIs() {
        this.runner
                .withPropertyValues("outbox.datasource=ordersTransactionManager")
                .run(context -> {
                    FailureAnalysis analysis = analysis(context);
                    assertThat(analysis.getDescription())
                            .isEqualTo(
                                    "outbox.datasource names the bean 'ordersTransactionManager', which is a"
                                            + " org.springframework.jdbc.datasource.DataSourceTransactionManager, not a DataSource.");
                    assertThat(analysis.getAction()).contains("ordersDataSource, billingDataSource");
                });
    }

    @Test
    void aTransactionManagerOfTheOtherDataSourceFailsStartUp() {
        this.runner
                .withPropertyValues(
                        "outbox.datasource=ordersDataSource", "outbox.transaction-manager=billingTransactionManager")
                .run(context -> {
                    FailureAnalysis analysis = analysis(context);
                    assertThat(analysis.getDescription())
                            .isEqualTo("outbox.transaction-manager names 'billingTransactionManager', which manages the"
                                    + " DataSource 'billingDataSource', not the outbox's 'ordersDataSource', so events"
                                    + " written in its transactions would not commit with them.");
                    assertThat(analysis.getAction())
                            .contains("(the application's: ordersTransactionManager, billingTransactionManager)");
                });
    }

    @Test
    void aTransactionManagerThatDoesNotExistFailsStartUp() {
        this.runner
                .withPropertyValues("outbox.datasource=ordersDataSource", "outbox.transaction-manager=ordersTx")
                .run(context -> assertThat(analysis(context).getDescription())
                        .isEqualTo("outbox.transaction-manager names the bean 'ordersTx', which is not a transaction"
                                + " manager of the application."));
    }

    @Test
    void springBootFindsTheAnalyzer() throws IOException {
        List<String> names = new ArrayList<>();
        Enumeration<URL> files = getClass().getClassLoader().getResources("META-INF/spring.factories");
        while (files.hasMoreElements()) {
            String value = PropertiesLoaderUtils.loadProperties(new UrlResource(files.nextElement()))
                    .getProperty(FailureAnalyzer.class.getName(), "");
            names.addAll(StringUtils.commaDelimitedListToSet(value.replace(" ", "")));
        }
        assertThat(names).contains(OutboxDataSourceFailureAnalyzer.class.getName());
    }

    private static FailureAnalysis analysis(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        FailureAnalysis analysis = new OutboxDataSourceFailureAnalyzer().analyze(context.getStartupFailure());
        assertThat(analysis)
                .as("an analysis of %s", context.getStartupFailure())
                .isNotNull();
        return analysis;
    }

    private static int outboxRows(DataSource dataSource) {
        Integer rows = new JdbcTemplate(dataSource).queryForObject("select count(*) from outbox_event", Integer.class);
        return rows == null ? 0 : rows;
    }

    private static boolean hasOutboxTable(DataSource dataSource) {
        return Boolean.TRUE.equals(new JdbcTemplate(dataSource)
                .queryForObject("select to_regclass('outbox_event') is not null", Boolean.class));
    }

    @Configuration(proxyBeanMethods = false)
    @EnableTransactionManagement
    static class TwoDatabases {

        @Bean(destroyMethod = "close")
        DataSource ordersDataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }

        @Bean(destroyMethod = "close")
        DataSource billingDataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }

        @Bean
        DataSourceTransactionManager ordersTransactionManager(DataSource ordersDataSource) {
            return new DataSourceTransactionManager(ordersDataSource);
        }

        @Bean
        DataSourceTransactionManager billingTransactionManager(DataSource billingDataSource) {
            return new DataSourceTransactionManager(billingDataSource);
        }

        @Bean
        OrderService orderService() {
            return new OrderService();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class PrimaryBilling {

        @Bean(destroyMethod = "close")
        @Primary
        DataSource primaryBillingDataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }
    }

    static class OrderService {

        @Transactional("ordersTransactionManager")
        @OutboxEvent(topic = "orders", key = "#id")
        public String placeOrder(String id) {
            return id;
        }

        @Transactional("billingTransactionManager")
        @OutboxEvent(topic = "orders", key = "#id")
        public String placeOrderInBillingsTransaction(String id) {
            return id;
        }
    }
}
