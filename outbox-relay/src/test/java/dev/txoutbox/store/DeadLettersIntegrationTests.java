package dev.txoutbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.txoutbox.testing.OutboxTestTables;
import dev.txoutbox.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/** What operators do with dead letters, against each database: page through them, requeue and discard them. */
abstract class DeadLettersIntegrationTests {

    private final TestDatabase database;

    private OutboxStore store;

    private DeadLetters deadLetters;

    private JdbcClient jdbc;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    DeadLettersIntegrationTests(TestDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void createTable() {
        this.store = OutboxTestTables.newStore(this.database);
        this.deadLetters = new DeadLetters(this.store.dataSource(), this.database.dialect(), this.store.table());
        this.jdbc = JdbcClient.create(this.store.dataSource());
        this.log.start();
        logger().addAppender(this.log);
    }

    @AfterEach
    void detachLog() {
        logger().detachAppender(this.log);
    }

    @Test
    void listPagesThroughAllDeadLettersInIdOrder() {
        for (long id = 1; id <= 250; id++) {
            deadLetter(id, "t", "k" + (id % 7));
        }

        List<Long> read = new ArrayList<>();
        List<DeadLetter> page = this.deadLetters.list(100);
        while (!page.isEmpty()) {
            page.forEach(deadLetter -> read.add(deadLetter.id()));
            page = this.deadLetters.list(page.get(page.size() - 1).id(), 100);
        }

        assertThat(read).hasSize(250).isSorted().doesNotHaveDuplicates();
        assertThat(this.deadLetters.list(240, 100))
                .extracting(DeadLetter::id)
                .startsWith(241L)
                .hasSize(10);
    }

    @Test
    void requeueByTopicAndKeyMovesTheMatchingDeadLettersBackWithTheirIdsInOneGo() {
        deadLetter(1, "customers", "42");
        deadLetter(2, "orders", "42");
        deadLetter(3, "customers", "7");
        deadLetter(4, "customers", "42");

        assertThat(this.deadLetters.requeue("customers", "42")).isEqualTo(2);

        assertThat(outboxIds()).containsExactly(1L, 4L);
        assertThat(this.jdbc
                        .sql("SELECT attempts FROM outbox_event")
                        .query(Integer.class)
                        .list())
                .containsOnly(0);
        assertThat(this.deadLetters.list(10)).extracting(DeadLetter::id).containsExactly(2L, 3L);
        assertThat(lastLogLine())
                .contains("Requeued 2 dead letters", "topic 'customers'", "key '42'", "outbox_event", "[1, 4]");

        assertThat(this.deadLetters.requeue(null, "42"))
                .as("key 42 in any topic")
                .isEqualTo(1);
        assertThat(outboxIds()).containsExactly(1L, 2L, 4L);
        assertThat(this.deadLetters.requeue("customers", null))
                .as("any key in customers")
                .isEqualTo(1);
        assertThat(outboxIds()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(this.deadLetters.count()).isZero();
    }

    @Test
    void requeueOfEverythingMovesAllDeadLettersAndLogsTheirIdRange() {
        for (long id = 1; id <= 30; id++) {
            deadLetter(id, "t" + (id % 3), (id % 2 == 0) ? null : "k" + id);
        }

        assertThat(this.deadLetters.requeue(null, null)).isEqualTo(30);

        assertThat(this.deadLetters.count()).isZero();
        assertThat(outboxIds()).hasSize(30).startsWith(1L).endsWith(30L);
        assertThat(lastLogLine()).contains("Requeued 30 dead letters", "any topic", "any key", "from 1 to 30");
    }

    @Test
    void discardByTopicKeyOrAllDeletesTheMatchingDeadLettersAndLogsThem() {
        deadLetter(1, "customers", "42");
        deadLetter(2, "orders", "42");
        deadLetter(3, "customers", "7");
        deadLetter(4, "orders", null);

        assertThat(this.deadLetters.discard("customers", "42")).isEqualTo(1);
        assertThat(lastLogLine()).contains("Discarded 1 dead letters", "topic 'customers'", "key '42'", "[1]");
        assertThat(this.deadLetters.discard(null, "42")).isEqualTo(1);
        assertThat(this.deadLetters.list(10)).extracting(DeadLetter::id).containsExactly(3L, 4L);
        assertThat(this.deadLetters.discard("orders", null)).isEqualTo(1);
        assertThat(this.deadLetters.discard(null, null)).isEqualTo(1);
        assertThat(lastLogLine()).contains("Discarded 1 dead letters", "any topic", "any key", "[3]");

        assertThat(this.deadLetters.count()).isZero();
        assertThat(outboxIds()).as("nothing went back to the outbox").isEmpty();
    }

    @Test
    void requeueAndDiscardOfOneDeadLetterAreLogged() {
        deadLetter(1, "t", "a");
        deadLetter(2, "t", "b");

        assertThat(this.deadLetters.requeue(1)).isTrue();
        assertThat(lastLogLine()).contains("Requeued dead letter 1", "outbox_event_dead_letter");
        assertThat(this.deadLetters.discard(2)).isTrue();
        assertThat(lastLogLine()).contains("Discarded dead letter 2");
        assertThat(this.deadLetters.discard(2)).isFalse();
        assertThat(lastLogLine()).contains("Discarded no dead letter", "id 2");
        assertThat(outboxIds()).containsExactly(1L);
    }

    private List<Long> outboxIds() {
        return this.jdbc
                .sql("SELECT id FROM outbox_event ORDER BY id")
                .query(Long.class)
                .list();
    }

    private String lastLogLine() {
        assertThat(this.log.list).isNotEmpty();
        ILoggingEvent event = this.log.list.get(this.log.list.size() - 1);
        assertThat(event.getLevel()).isEqualTo(Level.INFO);
        return event.getFormattedMessage();
    }

    private void deadLetter(long id, String topic, String key) {
        this.jdbc
                .sql("""
                        INSERT INTO outbox_event_dead_letter
                            (id, event_id, topic, record_key, event_type, headers, created_at, attempts, last_error)
                        VALUES (?, %s, ?, ?, 'TestEvent', '{}', %s, 10, 'failed')
                        """.formatted(this.database.randomUuid(), this.database.now()))
                .params(id, topic, key)
                .update();
    }

    private static Logger logger() {
        return (Logger) LoggerFactory.getLogger(DeadLetters.class);
    }
}
