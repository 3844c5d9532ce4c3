package dev.txoutbox.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.store.OutboxDialect;
import dev.txoutbox.store.OutboxDialects;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * A database product the contract tests run on, with the little SQL that tests need and that differs between them.
 * A contract test is an abstract class whose constructor takes the database, and a subclass per database runs it:
 * {@code PostgresXTests}, {@code MariaDbXTests}, and {@code MySqlXTests}, which run only where there is a MySQL server
 * ({@link RunsOnMySql}).
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

        @Override
        public HikariDataSource namedSessions(String jdbcUrl, String name) {
            return EmbeddedInfrastructure.dataSource(jdbcUrl, name);
        }

        @Override
        public int terminateSessions(JdbcClient jdbc, String name) {
            return jdbc.sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?")
                    .param(name)
                    .query(Integer.class)
                    .single();
        }

        @Override
        public Duration longestOpenTransaction(JdbcClient jdbc) {
            Double seconds = jdbc.sql("""
                            SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)
                            FROM pg_stat_activity
                            WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
                            """).query(Double.class).single();
            return Duration.ofMillis((long) (seconds * 1000));
        }

        @Override
        public String utf8(String text) {
            return "convert_to(%s, 'UTF8')".formatted(text);
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

        @Override
        public HikariDataSource namedSessions(String jdbcUrl, String name) {
            // The sessions' program_name is in performance_schema only, which the server may run without: they log
            // in as a user of that name instead, whom information_schema.processlist shows. The embedded server
            // runs without grant tables, and lets any user in.
            HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(jdbcUrl, name);
            dataSource.setUsername(name);
            return dataSource;
        }

        @Override
        public int terminateSessions(JdbcClient jdbc, String name) {
            List<Long> sessions = jdbc.sql(
                            "SELECT id FROM information_schema.processlist WHERE user = ? AND db = DATABASE()")
                    .param(name)
                    .query(Long.class)
                    .list();
            int killed = 0;
            for (long session : sessions) {
                try {
                    jdbc.sql("KILL CONNECTION " + session).update();
                    killed++;
                } catch (DataAccessException ex) {
                    // The session ended on its own in between.
                }
            }
            return killed;
        }

        @Override
        public Duration longestOpenTransaction(JdbcClient jdbc) {
            // trx_started has whole seconds only: a transaction looks up to a second older than it is.
            Long micros = jdbc.sql("""
                            SELECT coalesce(max(TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6))), 0)
                            FROM information_schema.innodb_trx t
                                JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id
                            WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID()
                            """).query(Long.class).single();
            return Duration.ofNanos(micros * 1000);
        }

        @Override
        public String utf8(String text) {
            return text;
        }
    },

    /** A MySQL server that a property names, or one in a container where Docker runs ({@link RunsOnMySql}). */
    MYSQL {
        @Override
        public String newDatabaseUrl() {
            return MySqlServer.newDatabaseUrl();
        }

        @Override
        public OutboxDialect dialect() {
            return OutboxDialects.mySql();
        }

        @Override
        public String series(int count) {
            // MySQL has no sequence tables; ten rows of digits, joined with themselves, give up to 10^6.
            return """
                    (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * h.d + 1 AS n
                     FROM %1$s a, %1$s b, %1$s c, %1$s e, %1$s f, %1$s h
                     WHERE a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 100000 * h.d < %2$d) AS g""".formatted(
                            "(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4"
                                    + " UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8"
                                    + " UNION ALL SELECT 9)",
                            count);
        }

        @Override
        public String randomUuid() {
            return "UUID()";
        }

        @Override
        public long sessionsWaitingForLocks(JdbcClient jdbc) {
            return MARIADB.sessionsWaitingForLocks(jdbc);
        }

        @Override
        public long sessionsWaitingForKeyLocks(JdbcClient jdbc) {
            return MARIADB.sessionsWaitingForKeyLocks(jdbc);
        }

        @Override
        public HikariDataSource namedSessions(String jdbcUrl, String name) {
            // A user of that name, whom information_schema.processlist shows, as on MariaDB; MySQL checks grants.
            try (HikariDataSource root = EmbeddedInfrastructure.dataSource(jdbcUrl, "root")) {
                JdbcClient jdbc = JdbcClient.create(root);
                jdbc.sql("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'"
                                .formatted(name, MySqlServer.password().replace("'", "''")))
                        .update();
                jdbc.sql("GRANT ALL ON *.* TO '%s'@'%%'".formatted(name)).update();
            }
            HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(jdbcUrl, name);
            dataSource.setUsername(name);
            return dataSource;
        }

        @Override
        public int terminateSessions(JdbcClient jdbc, String name) {
            return MARIADB.terminateSessions(jdbc, name);
        }

        @Override
        public Duration longestOpenTransaction(JdbcClient jdbc) {
            return MARIADB.longestOpenTransaction(jdbc);
        }

        @Override
        public String utf8(String text) {
            return MARIADB.utf8(text);
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

    /** The user that the tests connect as. */
    public String username() {
        return switch (this) {
            case POSTGRESQL -> "postgres";
            case MARIADB, MYSQL -> "root";
        };
    }

    /** That user's password. */
    public String password() {
        return this == MYSQL ? MySqlServer.password() : "";
    }

    /** The outbox dialect of the product. */
    public abstract OutboxDialect dialect();

    /** A row source for a FROM clause: the rows 1 to {@code count}, in a column {@code n}. */
    public abstract String series(int count);

    /** An SQL expression for a new random UUID. */
    public abstract String randomUuid();

    /** An SQL expression for the current time as the outbox's time columns hold it (UTC on MariaDB and MySQL). */
    public String now() {
        return this == POSTGRESQL ? "CURRENT_TIMESTAMP" : "UTC_TIMESTAMP(6)";
    }

    /** An SQL expression for a time column of the outbox as microseconds since the epoch, as the dialects read them. */
    public String epochMicros(String column) {
        return this == POSTGRESQL
                ? "(extract(epoch FROM %s) * 1000000)::bigint".formatted(column)
                : "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', %s)".formatted(column);
    }

    /** A time as a parameter for a time column of the outbox (a UTC {@code DATETIME} on MariaDB and MySQL). */
    public Object timestamp(Instant time) {
        return this == POSTGRESQL ? Timestamp.from(time) : LocalDateTime.ofInstant(time, ZoneOffset.UTC);
    }

    /**
     * The instant a time column of the outbox holds, as a driver reads it: a {@code Timestamp} of a PostgreSQL
     * {@code timestamptz}; the UTC wall time of a MariaDB or MySQL {@code DATETIME}, as a {@code Timestamp} (MariaDB's
     * driver) or a {@code LocalDateTime} (MySQL's), read whatever this JVM's time zone is.
     */
    public Instant instant(Object column) {
        if (this == POSTGRESQL) {
            return ((Timestamp) column).toInstant();
        }
        LocalDateTime utc =
                column instanceof Timestamp timestamp ? timestamp.toLocalDateTime() : (LocalDateTime) column;
        return utc.toInstant(ZoneOffset.UTC);
    }

    /**
     * A pooled data source whose sessions run in a time zone five hours east of UTC, whatever this JVM's zone is:
     * for showing that nothing the outbox writes or reads depends on the session's time zone.
     */
    public HikariDataSource inTimeZoneFiveHoursEast(String jdbcUrl) {
        HikariDataSource dataSource = EmbeddedInfrastructure.dataSource(jdbcUrl, "outbox-test-zone");
        if (this == POSTGRESQL) {
            dataSource.addDataSourceProperty("options", "-c TimeZone=Asia/Karachi");
        } else {
            dataSource.setConnectionInitSql("SET time_zone = '+05:00'");
        }
        return dataSource;
    }

    /** How many sessions of the current database wait for a lock that another holds. */
    public abstract long sessionsWaitingForLocks(JdbcClient jdbc);

    // Added for the contract tests of the writers' key locks.

    /**
     * How many sessions of the current database wait for a writer's key lock (see {@code OutboxDialect#lockKey}) that
     * another holds: PostgreSQL's transaction-scoped advisory locks, MariaDB's row locks of the key-lock table.
     */
    public abstract long sessionsWaitingForKeyLocks(JdbcClient jdbc);

    // Sessions a test can cut, transactions it can watch, bytes it can write: for the relay's contract tests.

    /**
     * A pooled data source for a database, whose sessions {@link #terminateSessions(JdbcClient, String)} can find by
     * {@code name} and cut.
     */
    public abstract HikariDataSource namedSessions(String jdbcUrl, String name);

    /**
     * Ends the sessions of the current database that {@link #namedSessions(String, String)} opened with that name,
     * as a database restart or a pooler's timeout would; returns how many it ended.
     */
    public abstract int terminateSessions(JdbcClient jdbc, String name);

    /** How long the oldest open transaction of the current database, other than the caller's, has lasted. */
    public abstract Duration longestOpenTransaction(JdbcClient jdbc);

    /** An SQL expression for the UTF-8 bytes of a text expression, as a payload column takes them. */
    public abstract String utf8(String text);
}
