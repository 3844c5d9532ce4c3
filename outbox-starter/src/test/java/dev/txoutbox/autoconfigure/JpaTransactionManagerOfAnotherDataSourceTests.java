package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import jakarta.persistence.EntityManagerFactory;
import java.lang.reflect.Proxy;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.orm.jpa.JpaTransactionManager;

/**
 * {@code outbox.transaction-manager} is checked against the outbox's DataSource also when it names a JPA transaction
 * manager, the usual one with several DataSources, whose resource factory is an EntityManagerFactory rather than its
 * DataSource.
 */
class JpaTransactionManagerOfAnotherDataSourceTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxWriterAutoConfiguration.class))
            .withUserConfiguration(TwoDatabasesWithJpa.class)
            .withPropertyValues("outbox.relay.notify.enabled=false");

    @Test
    void aJpaTransactionManagerOfTheOtherDataSourceFailsStartUp() {
        this.runner
                .withPropertyValues(
                        "outbox.datasource=ordersDataSource", "outbox.transaction-manager=billingTransactionManager")
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(OutboxDataSourceException.class)
                        .hasMessageContaining(
                                "outbox.transaction-manager names 'billingTransactionManager', which manages the"
                                        + " DataSource 'billingDataSource', not the outbox's 'ordersDataSource'"));
    }

    @Test
    void aJpaTransactionManagerOfTheOutboxsDataSourcePasses() {
        this.runner
                .withPropertyValues(
                        "outbox.datasource=billingDataSource", "outbox.transaction-manager=billingTransactionManager")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Configuration(proxyBeanMethods = false)
    static class TwoDatabasesWithJpa {

        @Bean(destroyMethod = "close")
        DataSource ordersDataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }

        @Bean(destroyMethod = "close")
        DataSource billingDataSource() {
            return EmbeddedInfrastructure.newDatabase();
        }

        @Bean
        JpaTransactionManager billingTransactionManager(DataSource billingDataSource) {
            // An EntityManagerFactory stand-in: the check never calls it; the manager's DataSource is what counts.
            EntityManagerFactory factory = (EntityManagerFactory) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {EntityManagerFactory.class}, (proxy, method, args) -> {
                        throw new UnsupportedOperationException(method.getName());
                    });
            JpaTransactionManager manager = new JpaTransactionManager(factory);
            manager.setDataSource(billingDataSource);
            return manager;
        }
    }
}
