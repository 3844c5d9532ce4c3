package dev.txoutbox.store;

/** The outbox SQL for PostgreSQL: {@code FOR UPDATE SKIP LOCKED} claims and array parameters. */
final class PostgresDialect implements OutboxDialect {

    @Override
    public String productName() {
        return "PostgreSQL";
    }

    @Override
    public String migrationLocation() {
        return "classpath:db/outbox/postgresql";
    }

    @Override
    public String insert(TableName table) {
        return """
                INSERT INTO %s (event_id, topic, record_key, event_type, payload, headers)
                VALUES (?, ?, ?, ?, ?, ?::jsonb)
                """.formatted(table);
    }

    @Override
    public String claim(TableName table) {
        // The claim CTE is referenced twice, so PostgreSQL evaluates (and locks) it once. blocked_by lets the
        // relay keep per-key order: a row may go only when no earlier row of its key is outside this claim.
        return """
                WITH claimed AS (
                    SELECT id, event_id, topic, record_key, event_type, payload, headers, created_at, attempts
                    FROM %1$s
                    WHERE next_attempt_at IS NULL OR next_attempt_at <= now()
                    ORDER BY id
                    LIMIT ?
                    FOR UPDATE SKIP LOCKED
                )
                SELECT c.id, c.event_id, c.topic, c.record_key, c.event_type, c.payload, c.headers::text AS headers,
                       c.created_at, c.attempts,
                       (SELECT min(o.id) FROM %1$s o
                        WHERE o.record_key = c.record_key AND o.id NOT IN (SELECT id FROM claimed)) AS blocked_by
                FROM claimed c
                ORDER BY c.id
                """.formatted(table);
    }

    @Override
    public String delete(TableName table) {
        return "DELETE FROM %s WHERE id = ANY(?)".formatted(table);
    }

    @Override
    public String recordFailures(TableName table) {
        return """
                UPDATE %s AS o
                SET attempts = o.attempts + 1,
                    next_attempt_at = now() + f.delay_ms * interval '1 millisecond',
                    last_error = f.error
                FROM unnest(?::bigint[], ?::bigint[], ?::text[]) AS f(id, delay_ms, error)
                WHERE o.id = f.id
                """.formatted(table);
    }

    @Override
    public String count(TableName table) {
        return "SELECT count(*) FROM %s".formatted(table);
    }
}
