package dev.txoutbox.test;

import dev.txoutbox.autoconfigure.OutboxRelayAutoConfiguration;
import dev.txoutbox.autoconfigure.OutboxStoreAutoConfiguration;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.writer.OutboxWriterAutoConfiguration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of the outbox test kit, imported by {@link AutoConfigureOutboxTest}: {@link WrittenEvents},
 * which also hears what the relay publishes, and {@link OutboxDrain}. It comes before the relay's auto-configuration
 * so that the relay, when there is one, is created with the kit's listener.
 */
@AutoConfiguration(
        after = {OutboxStoreAutoConfiguration.class, OutboxWriterAutoConfiguration.class},
        before = OutboxRelayAutoConfiguration.class,
        afterName = "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration")
@ConditionalOnBean(OutboxStore.class)
public final class OutboxTestAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    WrittenEvents outboxWrittenEvents(OutboxStore store, ObjectProvider<JsonMapper> jsonMapper) {
        return new WrittenEvents(
                store, jsonMapper.getIfAvailable(() -> JsonMapper.builder().build()));
    }

    @Bean
    PublishedRecords outboxPublishedRecords(WrittenEvents events) {
        return new PublishedRecords(events);
    }

    @Bean
    @ConditionalOnMissingBean
    OutboxDrain outboxDrain(
            OutboxStore store, ObjectProvider<DeadLetters> deadLetters, ObjectProvider<OutboxRelay> relays) {
        return new OutboxDrain(store, deadLetters, relays);
    }
}
