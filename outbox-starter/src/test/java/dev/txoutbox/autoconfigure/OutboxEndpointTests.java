package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The {@code outbox} actuator endpoint lists, requeues and discards dead letters. */
class OutboxEndpointTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("management.endpoints.web.exposure.include=outbox");

    @Test
    void listsRequeuesAndDiscardsDeadLetters() {
        this.runner.run(context -> {
            OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
            long poisoned = deadLetter(context, "order-1");
            long hopeless = deadLetter(context, "order-2");

            OutboxEndpoint.OutboxDescriptor state = endpoint.outbox();
            assertThat(state.table()).isEqualTo("outbox_event");
            assertThat(state.waiting()).isZero();
            assertThat(state.deadLetterCount()).isEqualTo(2);
            assertThat(state.deadLetters()).extracting(d -> d.key()).containsExactly("order-1", "order-2");
            assertThat(state.deadLetters().get(0).lastError()).isEqualTo("too large");

            assertThat(endpoint.requeue(poisoned).result()).isEqualTo("requeued");
            assertThat(endpoint.discard(hopeless).result()).isEqualTo("discarded");
            assertThat(endpoint.discard(hopeless).result()).isEqualTo("not found");

            assertThat(context.getBean(DeadLetters.class).count()).isZero();
            OutboxStore store = context.getBean(OutboxStore.class);
            assertThat(store.count()).isEqualTo(1);
            assertThat(JdbcClient.create(store.dataSource())
                            .sql("SELECT id FROM outbox_event")
                            .query(Long.class)
                            .single())
                    .as("a requeued event keeps its place in its key's order")
                    .isEqualTo(poisoned);
        });
    }

    @Test
    void isNotCreatedWithoutActuator() {
        this.runner
                .withClassLoader(
                        new FilteredClassLoader(org.springframework.boot.actuate.endpoint.annotation.Endpoint.class))
                .run(context -> assertThat(context).doesNotHaveBean(OutboxEndpoint.class));
    }

    @Test
    void isNotCreatedWhenNotExposed() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
                .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
                .run(context -> assertThat(context).doesNotHaveBean(OutboxEndpoint.class));
    }

    private static long deadLetter(ApplicationContext context, String key) {
        JdbcClient jdbc = JdbcClient.create(context.getBean(DataSource.class));
        long id = jdbc.sql("INSERT INTO outbox_event (event_id, topic, record_key, event_type, payload)"
                        + " VALUES (?, 'orders', ?, 'OrderPlaced', '\\x7b7d') RETURNING id")
                .params(UUID.randomUUID(), key)
                .query(Long.class)
                .single();
        jdbc.sql("""
                        WITH moved AS (DELETE FROM outbox_event WHERE id = ? RETURNING *)
                        INSERT INTO outbox_event_dead_letter
                            (id, event_id, topic, record_key, event_type, payload, headers, created_at, attempts,
                             last_error)
                        SELECT id, event_id, topic, record_key, event_type, payload, headers, created_at, 1, 'too large'
                        FROM moved
                        """).param(id).update();
        return id;
    }
}
