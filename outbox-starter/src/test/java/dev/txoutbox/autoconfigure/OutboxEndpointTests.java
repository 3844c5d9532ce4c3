package dev.txoutbox.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;

import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.store.DeadLetter;
import dev.txoutbox.store.DeadLetters;
import dev.txoutbox.store.OutboxStore;
import dev.txoutbox.store.TableName;
import dev.txoutbox.testing.EmbeddedInfrastructure;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jmx.JmxEndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.Operation;
import org.springframework.boot.actuate.endpoint.OperationType;
import org.springframework.boot.actuate.endpoint.jmx.ExposableJmxEndpoint;
import org.springframework.boot.actuate.endpoint.jmx.JmxEndpointsSupplier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jmx.JmxAutoConfiguration;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The {@code outbox} actuator endpoint pages through dead letters, requeues and discards one, or those of a topic, of
 * a key or all of them, logs every such action, and is read-only unless writes are allowed.
 */
@ExtendWith(OutputCaptureExtension.class)
class OutboxEndpointTests {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(
                    AutoConfigurations.of(OutboxStoreAutoConfiguration.class, OutboxEndpointAutoConfiguration.class))
            .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
            .withPropertyValues("management.endpoints.web.exposure.include=outbox");

    private final OutboxStore store = mock(OutboxStore.class);

    private final DeadLetters deadLetters = mock(DeadLetters.class);

    private final OutboxRelay relay = mock(OutboxRelay.class);

    private final OutboxEndpoint endpoint = new OutboxEndpoint(
            this.store,
            this.deadLetters,
            new StaticListableBeanFactory(Map.of("relay", this.relay)).getBeanProvider(OutboxRelay.class));

    @Test
    void requeuesAndDiscardsOneDeadLetterInTheDatabase() {
        this.runner.run(context -> {
            OutboxEndpoint endpoint = context.getBean(OutboxEndpoint.class);
            long poisoned = deadLetter(context, "order-1");
            long hopeless = deadLetter(context, "order-2");

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
    void listsAPageOfDeadLettersAfterAnIdAndSaysWhereTheNextPageStarts() {
        given(this.store.table()).willReturn(new TableName("outbox_event"));
        given(this.store.count()).willReturn(7L);
        given(this.deadLetters.count()).willReturn(101L);
        given(this.deadLetters.list(0L, 100)).willReturn(deadLetters(1, 100));
        given(this.deadLetters.list(100L, 100)).willReturn(deadLetters(101, 101));
        given(this.deadLetters.list(40L, 2)).willReturn(deadLetters(41, 42));

        OutboxEndpoint.OutboxDescriptor first = this.endpoint.outbox(null, null);
        assertThat(first.table()).isEqualTo("outbox_event");
        assertThat(first.waiting()).isEqualTo(7);
        assertThat(first.deadLetterCount()).isEqualTo(101);
        assertThat(first.deadLetters()).hasSize(100);
        assertThat(first.nextAfter()).isEqualTo(100L);

        OutboxEndpoint.OutboxDescriptor last = this.endpoint.outbox(first.nextAfter(), null);
        assertThat(last.deadLetters()).extracting(DeadLetter::id).containsExactly(101L);
        assertThat(last.nextAfter()).as("the last page").isNull();

        assertThat(this.endpoint.outbox(40L, 2).nextAfter()).isEqualTo(42L);
    }

    @Test
    void aPageLimitOutsideOneToAThousandIsRefused() {
        assertThatThrownBy(() -> this.endpoint.outbox(null, 0))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("limit=0")
                .hasMessageContaining("1 to 1000");
        assertThatThrownBy(() -> this.endpoint.outbox(null, 1001))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("limit=1001");
        verify(this.deadLetters, never()).list(anyLong(), anyInt());
    }

    @Test
    void requeuesByTopicByKeyOrAllAndWakesTheRelaysUp() {
        given(this.deadLetters.requeue("orders", null)).willReturn(3);
        given(this.deadLetters.requeue(null, "42")).willReturn(1);
        given(this.deadLetters.requeue("orders", "42")).willReturn(1);
        given(this.deadLetters.requeue(null, null)).willReturn(9);

        assertThat(this.endpoint.requeueMatching("orders", null, null))
                .isEqualTo(new OutboxEndpoint.DeadLettersAction("orders", null, false, 3, "requeued"));
        assertThat(this.endpoint.requeueMatching(null, "42", false).count()).isEqualTo(1);
        assertThat(this.endpoint.requeueMatching("orders", "42", null).count()).isEqualTo(1);
        assertThat(this.endpoint.requeueMatching(null, null, true))
                .isEqualTo(new OutboxEndpoint.DeadLettersAction(null, null, true, 9, "requeued"));

        verify(this.relay, org.mockito.Mockito.times(4)).wakeUp();
    }

    @Test
    void discardsByTopicByKeyOrAll() {
        given(this.deadLetters.discard("orders", null)).willReturn(3);
        given(this.deadLetters.discard(null, "42")).willReturn(1);
        given(this.deadLetters.discard(null, null)).willReturn(5);

        assertThat(this.endpoint.discardMatching("orders", null, null))
                .isEqualTo(new OutboxEndpoint.DeadLettersAction("orders", null, false, 3, "discarded"));
        assertThat(this.endpoint.discardMatching(null, "42", null).count()).isEqualTo(1);
        assertThat(this.endpoint.discardMatching(null, null, true).count()).isEqualTo(5);
        verifyNoInteractions(this.relay);
    }

    @Test
    void aRequestThatNamesNoTopicKeyOrAllTouchesNoDeadLetter() {
        assertThatThrownBy(() -> this.endpoint.requeueMatching(null, null, null))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("Say which dead letters to requeue")
                .hasMessageContaining("all=true");
        assertThatThrownBy(() -> this.endpoint.discardMatching(null, null, false))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("Say which dead letters to discard");
        assertThatThrownBy(() -> this.endpoint.discardMatching(" ", null, null))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("blank");
        assertThatThrownBy(() -> this.endpoint.discardMatching("orders", null, true))
                .isInstanceOf(InvalidEndpointRequestException.class)
                .hasMessageContaining("takes no topic or key");

        verify(this.deadLetters, never()).requeue(any(), any());
        verify(this.deadLetters, never()).discard(any(), any());
        verifyNoInteractions(this.relay);
    }

    @Test
    void everyOperatorActionIsLoggedWithWhatItTouched(CapturedOutput output) {
        given(this.deadLetters.requeue(17L)).willReturn(true);
        given(this.deadLetters.discard("orders", "42")).willReturn(2);

        this.endpoint.requeue(17L);
        this.endpoint.discard(18L);
        this.endpoint.discardMatching("orders", "42", null);

        assertThat(output.getOut())
                .contains("INFO")
                .contains("the actuator endpoint was asked to requeue dead letter 17: requeued")
                .contains("the actuator endpoint was asked to discard dead letter 18: not found")
                .contains("the actuator endpoint was asked to discard the dead letters of topic 'orders' and key '42':"
                        + " 2 discarded");
    }

    @Test
    void isReadOnlyUnlessWritesAreAllowed() {
        // Operations are filtered by their access as Boot discovers them, for the web and JMX alike.
        ApplicationContextRunner jmx = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        JmxAutoConfiguration.class,
                        EndpointAutoConfiguration.class,
                        JmxEndpointAutoConfiguration.class,
                        OutboxStoreAutoConfiguration.class,
                        OutboxEndpointAutoConfiguration.class))
                .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
                .withPropertyValues("spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=outbox")
                // As in a Spring Boot application, where access=unrestricted is read in lower case.
                .withInitializer(
                        context -> context.getEnvironment().setConversionService(new ApplicationConversionService()));

        jmx.run(context -> assertThat(operations(context)).containsExactly(OperationType.READ));
        jmx.withPropertyValues("management.endpoint.outbox.access=unrestricted")
                .run(context -> assertThat(operations(context))
                        .containsExactlyInAnyOrder(
                                OperationType.READ,
                                OperationType.WRITE,
                                OperationType.WRITE,
                                OperationType.DELETE,
                                OperationType.DELETE));
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
                .withConfiguration(AutoConfigurations.of(
                        OutboxStoreAutoConfiguration.class, OutboxEndpointAutoConfiguration.class))
                .withBean(DataSource.class, EmbeddedInfrastructure::newDatabase)
                .run(context -> assertThat(context).doesNotHaveBean(OutboxEndpoint.class));
    }

    @Test
    void isNotCreatedWithoutAnOutboxStore() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(
                        OutboxStoreAutoConfiguration.class, OutboxEndpointAutoConfiguration.class))
                .withPropertyValues("management.endpoints.web.exposure.include=outbox")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(OutboxEndpoint.class);
                });
    }

    private static List<OperationType> operations(ApplicationContext context) {
        ExposableJmxEndpoint outbox = context.getBean(JmxEndpointsSupplier.class).getEndpoints().stream()
                .filter(endpoint -> endpoint.getEndpointId().equals(EndpointId.of("outbox")))
                .findFirst()
                .orElseThrow();
        return outbox.getOperations().stream().map(Operation::getType).toList();
    }

    private static List<DeadLetter> deadLetters(long firstId, long lastId) {
        return LongStream.rangeClosed(firstId, lastId)
                .mapToObj(id -> new DeadLetter(
                        id,
                        UUID.randomUUID(),
                        "orders",
                        "order-" + id,
                        "OrderPlaced",
                        1,
                        "RecordTooLargeException: too large",
                        Instant.now(),
                        Instant.now()))
                .toList();
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
