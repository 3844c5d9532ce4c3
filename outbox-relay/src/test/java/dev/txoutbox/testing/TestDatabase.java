package dev.txoutbox.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A database product the contract tests run on, with the little SQL that tests need and that differs between them.
 * A test class that runs on each is annotated {@code @ParameterizedClass @EnumSource(TestDatabase.class)} and takes
 * the database as its constructor's parameter.
 */
public enum TestDatabase {

    /** The embedded PostgreSQL server. */
    POSTGRESQL {
        @Override
        public String newDatabaseUrl() {
            return EmbeddedInfrastructure.newDatabaseUrl();
        }

        @Override
        public OutboxDialect dialect() {
            return OutboxDialects.postgres();
        }

        @Override
        public String series(int count) {
            return "generate_series(1, %d) AS g(n)".formatted(count);
        }

        @Override
        public String randomUuid() {
            return "gen_random_uuid()";
        }

        @Override
        public long sessionsWaitingForLocks(JdbcClient jdbc) {
            return jdbc.sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND database = (SELECT oid FROM"
                            + " pg_database WHERE datname = current_database())")
                    .query(Long.class)
                    .single();
        }

        @Override
        public long sessionsWaitingForKeyLocks(JdbcClient jdbc) {
            return jdbc.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database ="
                            + " (SELECT oid FROM pg_database WHERE datname = current_database())")
                    .query(Long.class)
                    .single();
        }
    },

    /** The embedded MariaDB server. */
    MARIADB {
        @Override
        public String newDatabaseUrl() {
            return EmbeddedInfrastructure.newMariaDbDatabaseUrl();
        }

        @Override
        public OutboxDialect dialect() {
            return OutboxDialects.mariaDb();
        }

        @Override
        public String series(int count) {
            return "(SELECT seq AS n FROM seq_1_to_%d) AS g".formatted(count);
        }

        @Override
        public String randomUuid() {
            return "UUID()";
        }

        @Override
        public long sessionsWaitingForLocks(JdbcClient jdbc) {
            return jdbc.sql("SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p"
                            + " ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()")
                    .query(Long.class)
                    .single();
        }

        @Override
        public long sessionsWaitingForKeyLocks(JdbcClient jdbc) {
            // The writers' key locks are row locks of the key-lock table: a session waits for one while it runs the
            // statement that takes it.
            return jdbc.sql("SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p"
                            + " ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()"
                            + " AND t.trx_query LIKE '%key_lock%'")
                    .query(Long.class)
                    .single();
        }
    };

    /** The product that a dialect serves. */
    public static TestDatabase of(OutboxDialect dialect) {
        for (TestDatabase database : values()) {
            if (database.dialect().productName().equals(dialect.productName())) {
                return database;
            }
        }
        throw new IllegalArgumentException("No test database for " + dialect.productName());
    }

    /** Creates an empty database and returns its JDBC URL. */
    public abstract String newDatabaseUrl();

    /** Creates an empty database and returns a pooled data source for it, as an application would have. */
    public HikariDataSource newDatabase() {
        return EmbeddedInfrastructure.dataSource(newDatabaseUrl(), "outbox-test");
    }

    /** The outbox dialect of the product. */
    public abstract OutboxDialect dialect();

    /** A row source for a FROM clause: the rows 1 to {@code count}, in a column {@code n}. */
    public abstract String series(int count);

    /** An SQL expression for a new random UUID. */
    public abstract String randomUuid();

    /** How many sessions of the current database wait for a lock that another holds. */
    public abstract long sessionsWaitingForLocks(JdbcClient jdbc);

    // Added for the contract tests of the writers' key locks.

    /**
     * How many sessions of the current database wait for a writer's key lock (see {@code OutboxDialect#lockKey}) that
     * another holds: PostgreSQL's transaction-scoped advisory locks, MariaDB's row locks of the key-lock table.
     */
    public abstract long sessionsWaitingForKeyLocks(JdbcClient jdbc);
}
