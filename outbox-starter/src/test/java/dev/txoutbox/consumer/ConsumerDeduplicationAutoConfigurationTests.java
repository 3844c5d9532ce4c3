package dev.txoutbox.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.Deduplicator;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.store.ProcessedEvents;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** When consumer-side de-duplication is configured, and when it gives way to the application's own. */
class ConsumerDeduplicationAutoConfigurationTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    OutboxStoreAutoConfiguration.class, ConsumerDeduplicationAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase);

    @Test
    void deduplicationIsOnByDefaultWithTheDatabasesDeduplicatorAndItsPurge() {
        this.runner.run(context -> {
            assertThat(context).hasSingleBean(Deduplicator.class);
            assertThat(context).getBean(Deduplicator.class).isInstanceOf(JdbcDeduplicator.class);
            assertThat(context).hasSingleBean(ProcessedEventsPurger.class);
            assertThat(context.getBean(ProcessedEventsPurger.class).isRunning()).isTrue();
        });
    }

    @Test
    void deduplicationCanBeTurnedOff() {
        this.runner.withPropertyValues("outbox.consumer.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(Deduplicator.class);
            assertThat(context).doesNotHaveBean(ProcessedEventsPurger.class);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbox.consumer.retention=-1d", "outbox.consumer.purge-interval=0s"})
    void aRetentionOrPurgeIntervalThatIsNotPositiveFailsStartUpNamingTheProperty(String setting) {
        this.runner
                .withPropertyValues(setting)
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasMessageContaining("Property " + setting.substring(0, setting.indexOf('=')) + " with value")
                        .hasMessageContaining("It must be a positive duration"));
    }

    @Test
    void theApplicationsOwnDeduplicatorReplacesOurs() {
        this.runner.withUserConfiguration(UserDeduplicator.class).run(context -> {
            assertThat(context).hasSingleBean(Deduplicator.class);
            assertThat(context.getBean(Deduplicator.class)).isSameAs(UserDeduplicator.DEDUPLICATOR);
            assertThat(context).doesNotHaveBean(JdbcDeduplicator.class);
        });
    }

    @Test
    void withoutTheOutboxsStoreNothingIsConfigured() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        OutboxStoreAutoConfiguration.class, ConsumerDeduplicationAutoConfiguration.class))
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(ProcessedEvents.class);
                    assertThat(context).doesNotHaveBean(Deduplicator.class);
                    assertThat(context).doesNotHaveBean(ProcessedEventsPurger.class);
                });
    }

    @Configuration(proxyBeanMethods = false)
    static class UserDeduplicator {

        static final Deduplicator DEDUPLICATOR = (String consumer, UUID eventId) -> true;

        @Bean
        Deduplicator myDeduplicator() {
            return DEDUPLICATOR;
        }
    }
}
