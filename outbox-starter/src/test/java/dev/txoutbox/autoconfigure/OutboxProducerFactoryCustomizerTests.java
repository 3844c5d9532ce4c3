package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.kafka.InvalidProducerConfigurationException;
import dev.txoutbox.relay.kafka.KafkaRecordPublisher;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

/** {@link OutboxProducerFactoryCustomizer} beans adjust the relay's producer factory, in order, before it is used. */
class OutboxProducerFactoryCustomizerTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(
                    KafkaAutoConfiguration.class,
                    OutboxStoreAutoConfiguration.class,
                    OutboxRelayAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("spring.kafka.bootstrap-servers=" + EmbeddedInfrastructure.kafkaBootstrapServers());

    @Test
    void customizersChangeTheRelaysProducerInTheirOrder() {
        this.runner
                .withUserConfiguration(OrderedCustomizers.class)
                .run(context -> assertThat(
                                context.getBean(KafkaRecordPublisher.class).producerConfiguration())
                        .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "10")
                        .containsEntry(ProducerConfig.ACKS_CONFIG, "all"));
    }

    @Test
    void noCustomizerIsNeeded() {
        this.runner.run(context -> assertThat(
                        context.getBean(KafkaRecordPublisher.class).producerConfiguration())
                .containsEntry(ProducerConfig.LINGER_MS_CONFIG, "1"));
    }

    @Test
    void aCustomizedConfigurationTheKafkaClientRefusesFailsStartUp() {
        this.runner
                .withBean(
                        OutboxProducerFactoryCustomizer.class,
                        () -> factory -> factory.updateConfigs(
                                Map.of(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "10")))
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidProducerConfigurationException.class)
                        .hasMessageContaining("max.in.flight.requests.per.connection=10"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"acks=1", "enable.idempotence=false", "max.request.size=100"})
    void aCustomizerThatChangesWhatTheOutboxRestsOnFailsStartUpNamingTheSetting(String setting) {
        String[] keyAndValue = setting.split("=");
        this.runner
                .withBean(
                        OutboxProducerFactoryCustomizer.class,
                        () -> factory -> factory.updateConfigs(Map.of(keyAndValue[0], keyAndValue[1])))
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidProducerConfigurationException.class)
                        .hasMessageContaining("customizer")
                        .hasMessageContaining("changed " + keyAndValue[0]));
    }

    @Test
    void aCustomizerThatMakesTheProducerTransactionalFailsStartUp() {
        this.runner
                .withBean(OutboxProducerFactoryCustomizer.class, () -> factory -> factory.setTransactionIdPrefix("tx-"))
                .run(context -> assertThat(context)
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InvalidProducerConfigurationException.class)
                        .hasMessageContaining("made the producer transactional"));
    }

    @Configuration(proxyBeanMethods = false)
    static class OrderedCustomizers {

        // Declared before the first, and run after it: the order is the beans' order, not the declarations'.
        @Bean
        @Order(2)
        OutboxProducerFactoryCustomizer doubleTheLinger() {
            return factory -> factory.updateConfigs(Map.of(
                    ProducerConfig.LINGER_MS_CONFIG,
                    String.valueOf(2
                            * Long.parseLong(String.valueOf(
                                    factory.getConfigurationProperties().get(ProducerConfig.LINGER_MS_CONFIG))))));
        }

        @Bean
        @Order(1)
        OutboxProducerFactoryCustomizer lingerFiveMillis() {
            return factory -> factory.updateConfigs(Map.of(ProducerConfig.LINGER_MS_CONFIG, "5"));
        }
    }
}
