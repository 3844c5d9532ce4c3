package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@code outbox} Actuator endpoint, which shows the outbox's figures and pages through,
 * requeues and discards dead letters; configured when Actuator is present and the endpoint is exposed.
 */
@AutoConfiguration(after = {OutboxStoreAutoConfiguration.class, OutboxRelayAutoConfiguration.class})
@ConditionalOnClass(Endpoint.class)
@ConditionalOnBean({OutboxStore.class, DeadLetters.class})
@ConditionalOnAvailableEndpoint(OutboxEndpoint.class)
public final class OutboxEndpointAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    OutboxEndpoint outboxEndpoint(OutboxStore store, DeadLetters deadLetters, ObjectProvider<OutboxRelay> relays) {
        return new OutboxEndpoint(store, deadLetters, relays);
    }
}
