package dev.txoutbox.store;

import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What operators do with dead letters: list them, requeue one (it goes back to the outbox with its old id, so it
 * is published before the later events of its key, and its key is released), or discard one (its key is released;
 * the event is lost for good).
 */
public final class DeadLetters {

    private final JdbcClient jdbc;

    private final String listSql;

    private final String requeueSql;

    private final String discardSql;

    private final String countSql;

    public DeadLetters(DataSource dataSource, OutboxDialect dialect, TableName table) {
        this.jdbc = JdbcClient.create(dataSource);
        this.listSql = dialect.listDeadLetters(table);
        this.requeueSql = dialect.requeueDeadLetter(table);
        this.discardSql = dialect.discardDeadLetter(table);
        this.countSql = dialect.count(table.deadLetters());
    }

    /** The first {@code limit} dead letters, oldest event first. */
    public List<DeadLetter> list(int limit) {
        return this.jdbc
                .sql(this.listSql)
                .param(limit)
                .query((rs, rowNum) -> new DeadLetter(
                        rs.getLong("id"),
                        rs.getObject("event_id", UUID.class),
                        rs.getString("topic"),
                        rs.getString("record_key"),
                        rs.getString("event_type"),
                        rs.getInt("attempts"),
                        rs.getString("last_error"),
                        rs.getTimestamp("created_at").toInstant(),
                        rs.getTimestamp("dead_lettered_at").toInstant()))
                .list();
    }

    /**
     * Up to {@code limit} dead letters with an id above {@code afterId}, oldest event first: pass the last id of one
     * page to read the next.
     */
    public List<DeadLetter> list(long afterId, int limit) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Moves the dead letters of a topic, of a key, of a key in a topic, or all of them, back into the outbox.
     *
     * @param topic only the dead letters of this topic, or all topics when null
     * @param key only the dead letters of this key, or all keys when null
     * @return how many were moved
     */
    public int requeue(@org.jspecify.annotations.Nullable String topic, @org.jspecify.annotations.Nullable String key) {
        throw new UnsupportedOperationException("not yet");
    }

    /**
     * Deletes the dead letters of a topic, of a key, of a key in a topic, or all of them.
     *
     * @param topic only the dead letters of this topic, or all topics when null
     * @param key only the dead letters of this key, or all keys when null
     * @return how many were deleted
     */
    public int discard(@org.jspecify.annotations.Nullable String topic, @org.jspecify.annotations.Nullable String key) {
        throw new UnsupportedOperationException("not yet");
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
        return this.jdbc.sql(this.requeueSql).param(id).update() > 0;
    }

    /**
     * Deletes a dead letter.
     *
     * @return whether there was a dead letter with that id
     */
    public boolean discard(long id) {
        return this.jdbc.sql(this.discardSql).param(id).update() > 0;
    }
}
