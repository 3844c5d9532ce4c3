package dev.txoutbox.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import dev.txoutbox.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link OutboxEventIntegrationTests} on embedded PostgreSQL with the relay in log mode: the same annotation, facade,
 * record and guarantees, the relay reading the committed rows from the write-ahead log. The poll interval of ten
 * minutes means that every record here came through the log.
 */
class PostgresLogModeOutboxEventIntegrationTests extends OutboxEventIntegrationTests {

    private static final String TOPIC = EmbeddedInfrastructure.newTopic("invoices-log", 2);

    private static final String AUDIT_TOPIC = EmbeddedInfrastructure.newTopic("audit-log", 1);

    @Autowired
    private OutboxRelay relay;

    @Autowired
    private OutboxStore outboxStore;

    @DynamicPropertySource
    static void postgresInLogMode(DynamicPropertyRegistry registry) {
        database(registry, TestDatabase.POSTGRESQL, TOPIC, AUDIT_TOPIC);
        registry.add("outbox.relay.mode", () -> "log");
    }

    @Test
    void theRelayReadsTheLogAndWritersTakeNoKeyLock() {
        assertThat(this.relay.commitLog()).isNotNull();
        assertThat(this.relay.commitLog().describe()).contains("outbox_event_relay");
        assertThat(this.outboxStore.keyLocks()).isFalse();
    }
}
