package dev.txoutbox.store;

import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What operators do with dead letters: list them, requeue them (each goes back to the outbox with its old id, so it
 * is published before the later events of its key, and its key is released), or discard them (the key is released;
 * the events are lost for good); one at a time, or by topic, by key, or all at once. Every requeue and discard is
 * logged at INFO with what it touched.
 */
public final class DeadLetters {

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

    /** How many ids a log line lists; beyond that it gives their range. */
    private static final int LOGGED_IDS = 20;

    private final JdbcClient jdbc;

    private final OutboxDialect dialect;

    private final TransactionTemplate transaction;

    private final TableName table;

    private final String listSql;

    private final String lockSql;

    private final List<String> requeueSql;

    private final String discardSql;

    private final String countSql;

    public DeadLetters(DataSource dataSource, OutboxDialect dialect, TableName table) {
        this.jdbc = JdbcClient.create(dataSource);
        this.dialect = dialect;
        // Joins the caller's transaction on the same data source, if there is one.
        this.transaction = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.table = table;
        this.listSql = dialect.listDeadLetters(table);
        this.lockSql = dialect.lockDeadLetters(table);
        this.requeueSql = dialect.requeueDeadLetters(table);
        this.discardSql = dialect.discardDeadLetters(table);
        this.countSql = dialect.count(table.deadLetters());
    }

    /** The first {@code limit} dead letters, oldest event first. */
    public List<DeadLetter> list(int limit) {
        return list(Long.MIN_VALUE, limit);
    }

    /**
     * Up to {@code limit} dead letters with an id above {@code afterId}, oldest event first: pass the last id of one
     * page to read the next.
     */
    public List<DeadLetter> list(long afterId, int limit) {
        return this.jdbc
                .sql(this.listSql)
                .params(afterId, limit)
                .query((rs, rowNum) -> new DeadLetter(
                        rs.getLong("id"),
                        UUID.fromString(rs.getString("event_id")),
                        rs.getString("topic"),
                        rs.getString("record_key"),
                        rs.getString("event_type"),
                        rs.getInt("attempts"),
                        rs.getString("last_error"),
                        OutboxStore.epochMicros(rs.getLong("created_micros")),
                        OutboxStore.epochMicros(rs.getLong("dead_lettered_micros"))))
                .list();
    }

    /**
     * Moves the dead letters of a topic, of a key, of a key in a topic, or all of them, back into the outbox, in one
     * transaction. Each keeps its id, so that it is published before the later events of its key.
     *
     * @param topic only the dead letters of this topic, or all topics when null
     * @param key only the dead letters of this key, or all keys when null
     * @return how many were moved
     */
    public int requeue(@Nullable String topic, @Nullable String key) {
        List<Long> ids = inTransaction(() -> {
            List<Long> locked = lock(topic, key);
            move(locked);
            return locked;
        });
        log.info(
                "Requeued {} dead letters of {} from '{}' into '{}'{}",
                ids.size(),
                filter(topic, key),
                this.table.deadLetters(),
                this.table,
                describe(ids));
        return ids.size();
    }

    /**
     * Deletes the dead letters of a topic, of a key, of a key in a topic, or all of them, in one transaction.
     *
     * @param topic only the dead letters of this topic, or all topics when null
     * @param key only the dead letters of this key, or all keys when null
     * @return how many were deleted
     */
    public int discard(@Nullable String topic, @Nullable String key) {
        List<Long> ids = inTransaction(() -> {
            List<Long> locked = lock(topic, key);
            delete(locked);
            return locked;
        });
        log.info(
                "Discarded {} dead letters of {} from '{}'{}",
                ids.size(),
                filter(topic, key),
                this.table.deadLetters(),
                describe(ids));
        return ids.size();
    }

    /** How many dead letters there are. */
    public long count() {
        return this.jdbc.sql(this.countSql).query(Long.class).single();
    }

    /**
     * Moves a dead letter back into the outbox with its attempts reset.
     *
     * @return whether there was a dead letter with that id
     */
    public boolean requeue(long id) {
        boolean found = inTransaction(() -> move(List.of(id))) > 0;
        if (found) {
            log.info("Requeued dead letter {} from '{}' into '{}'", id, this.table.deadLetters(), this.table);
        } else {
            log.info("Requeued no dead letter: '{}' has none with id {}", this.table.deadLetters(), id);
        }
        return found;
    }

    /**
     * Deletes a dead letter.
     *
     * @return whether there was a dead letter with that id
     */
    public boolean discard(long id) {
        boolean found = delete(List.of(id)) > 0;
        if (found) {
            log.info("Discarded dead letter {} from '{}'", id, this.table.deadLetters());
        } else {
            log.info("Discarded no dead letter: '{}' has none with id {}", this.table.deadLetters(), id);
        }
        return found;
    }

    private List<Long> lock(@Nullable String topic, @Nullable String key) {
        return this.jdbc
                .sql(this.lockSql)
                .param("topic", topic)
                .param("key", key)
                .query(Long.class)
                .list();
    }

    /** Moves the dead letters with these ids back into the outbox; returns how many it moved. */
    private int move(List<Long> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        Object array = this.dialect.array("bigint", ids.toArray());
        int moved = this.jdbc.sql(this.requeueSql.get(0)).param("ids", array).update();
        for (String statement : this.requeueSql.subList(1, this.requeueSql.size())) {
            this.jdbc.sql(statement).param("ids", array).update();
        }
        return moved;
    }

    private int delete(List<Long> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return this.jdbc
                .sql(this.discardSql)
                .param("ids", this.dialect.array("bigint", ids.toArray()))
                .update();
    }

    private <T> T inTransaction(Supplier<T> work) {
        return Objects.requireNonNull(this.transaction.execute(status -> work.get()));
    }

    private static String filter(@Nullable String topic, @Nullable String key) {
        return "%s, %s"
                .formatted(
                        (topic != null) ? "topic '" + topic + "'" : "any topic",
                        (key != null) ? "key '" + key + "'" : "any key");
    }

    private static String describe(List<Long> ids) {
        if (ids.isEmpty()) {
            return "";
        }
        if (ids.size() <= LOGGED_IDS) {
            return ": ids " + ids.stream().sorted().toList();
        }
        long first = ids.stream().mapToLong(Long::longValue).min().orElseThrow();
        long last = ids.stream().mapToLong(Long::longValue).max().orElseThrow();
        return ": ids from " + first + " to " + last;
    }
}
