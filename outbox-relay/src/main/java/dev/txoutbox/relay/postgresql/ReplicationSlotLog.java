package dev.txoutbox.relay.postgresql;

import dev.txoutbox.internal.DaemonThreads;
import dev.txoutbox.relay.CommitLog;
import dev.txoutbox.store.TableName;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The log of committed inserts into an outbox table, read from PostgreSQL's write-ahead log through a logical
 * replication slot with the built-in {@code pgoutput} plugin, and a publication of the table's inserts only: no
 * server extension to install. The slot holds the position its reader confirmed last, and admits one reader at a time.
 *
 * <p>{@link #prepare()} checks what log mode needs ({@code wal_level=logical}, a user who may replicate, a free slot)
 * and makes the publication and the slot when they are missing, with messages that say what to change. A reader
 * receives the stream in a thread of its own and hands the committed transactions to the relay's thread through a
 * bounded queue, so that the stream keeps being read (and the server hears from it) while the relay waits for the
 * broker; when the queue is full it stops reading and the server keeps the rest in its WAL, which shows as the slot's
 * lag.
 */
public final class ReplicationSlotLog implements CommitLog {

    private static final Logger log = LoggerFactory.getLogger(ReplicationSlotLog.class);

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** PostgreSQL's SQL state for a slot that another session reads. */
    private static final String OBJECT_IN_USE = "55006";

    /** PostgreSQL's SQL state for an object that exists already. */
    private static final String DUPLICATE_OBJECT = "42710";

    /** How many committed transactions a reader keeps before the relay takes them. */
    private static final int QUEUED_COMMITS = 4_096;

    /** How often the reader tells the server where it is, at least. */
    private static final Duration STATUS_INTERVAL = Duration.ofSeconds(1);

    /** How long a reader waits before it looks at the stream again, right after a message. */
    private static final long MIN_IDLE_WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(250);

    /** The longest a reader waits between looks at an idle stream. */
    private static final long MAX_IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final TableName table;

    private final Connector connector;

    private final String slot;

    private final String publication;

    /** Whether this log made its slot, and no reader read it yet. */
    private volatile boolean madeSlot;

    /**
     * Creates the log of a table.
     *
     * @param dataSource where the table lives, for the checks, the publication, the slot and its status
     * @param table the outbox table
     * @param connector opens replication connections to the same database
     * @param slot the replication slot's name, see {@link #defaultSlotName}
     * @param publication the publication's name, see {@link #defaultPublicationName}
     */
    public ReplicationSlotLog(
            DataSource dataSource, TableName table, Connector connector, String slot, String publication) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.jdbc = JdbcClient.create(dataSource);
        this.table = Objects.requireNonNull(table, "table");
        this.connector = Objects.requireNonNull(connector, "connector");
        this.slot = checkName("slot", slot);
        this.publication = checkName("publication", publication);
    }

    /**
     * Checks the name of a slot or a publication.
     *
     * @return the name
     * @throws IllegalArgumentException when PostgreSQL would not take it unquoted as it is
     */
    public static String checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("The replication " + what + " name '" + name + "' is not a lower-case"
                    + " PostgreSQL name of letters, digits and underscores, at most 63 characters");
        }
        return name;
    }

    /**
     * The log of a table through the slot and the publication named by default: see {@link #defaultSlotName} and
     * {@link #defaultPublicationName}.
     *
     * @param dataSource where the table lives
     * @param table the outbox table
     * @param connector opens replication connections to the same database
     */
    public static ReplicationSlotLog of(DataSource dataSource, TableName table, Connector connector) {
        String database = JdbcClient.create(dataSource)
                .sql("SELECT current_database()")
                .query(String.class)
                .single();
        return new ReplicationSlotLog(
                dataSource, table, connector, defaultSlotName(database, table), defaultPublicationName(table));
    }

    /**
     * The name of a table's publication when none is given: the table's, followed by {@code _relay}. A publication
     * belongs to its database.
     */
    public static String defaultPublicationName(TableName table) {
        return table.value().replace('$', '_') + "_relay";
    }

    /**
     * The name of a table's replication slot when none is given: the database's and the table's, followed by {@code
     * _relay}, in lower case with any other character than a letter, a digit or an underscore as an underscore, the
     * database's shortened to fit 63 characters. Slot names are shared by all databases of a server, so that the
     * same table in two databases needs two names.
     */
    public static String defaultSlotName(String database, TableName table) {
        String suffix = "_" + defaultPublicationName(table);
        String prefix = database.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (prefix.isEmpty() || !Character.isLetter(prefix.charAt(0)) && prefix.charAt(0) != '_') {
            prefix = "db_" + prefix;
        }
        return prefix.substring(0, Math.min(prefix.length(), 63 - suffix.length())) + suffix;
    }

    /**
     * Opens replication connections with a JDBC URL and credentials, as a {@link DriverManager} connection with the
     * parameters a replication connection needs.
     *
     * @param url the JDBC URL of the database (not of a connection pooler: poolers do not pass replication on)
     * @param user the user, who needs the {@code REPLICATION} attribute or its managed-service equivalent
     * @param password the password, or null
     */
    public static Connector connector(String url, @Nullable String user, @Nullable String password) {
        Objects.requireNonNull(url, "url");
        return () -> {
            Properties properties = new Properties();
            if (user != null) {
                PGProperty.USER.set(properties, user);
            }
            if (password != null) {
                PGProperty.PASSWORD.set(properties, password);
            }
            // In the URL, after its own parameters: the driver lets a URL's parameters win over the properties, and a
            // data source's URL may carry preferQueryMode=extended, which a replication connection refuses.
            String replicationUrl = url + (url.contains("?") ? "&" : "?")
                    + "replication=database&preferQueryMode=simple&assumeMinServerVersion=10";
            return DriverManager.getConnection(replicationUrl, properties);
        };
    }

    /** The replication slot's name. */
    public String slot() {
        return this.slot;
    }

    /** The publication's name. */
    public String publication() {
        return this.publication;
    }

    @Override
    public String describe() {
        return "replication slot '" + this.slot + "' (publication '" + this.publication + "' of table '" + this.table
                + "')";
    }

    /**
     * Checks that log mode can run, and makes the publication and the slot when they are missing.
     *
     * @throws LogModeUnavailableException saying what to change when it cannot
     */
    public void prepare() {
        String walLevel = this.jdbc.sql("SHOW wal_level").query(String.class).single();
        if (!"logical".equals(walLevel)) {
            throw new LogModeUnavailableException(("outbox.relay.mode=log reads the write-ahead log, which needs"
                            + " wal_level=logical, and the server has wal_level=%s. Set wal_level = logical in"
                            + " postgresql.conf and restart the server (on Amazon RDS and Aurora: the parameter"
                            + " rds.logical_replication = 1 in the DB parameter group; on Google Cloud SQL: the flag"
                            + " cloudsql.logical_decoding = on; on Azure: wal_level = LOGICAL in the server parameters),"
                            + " or set outbox.relay.mode=poll.")
                    .formatted(walLevel));
        }
        Map<String, @Nullable Object> role = this.jdbc.sql("""
                        SELECT current_user AS name, r.rolsuper OR r.rolreplication
                                   OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication')
                                       AND pg_has_role(current_user, 'rds_replication', 'member')) AS replicates
                        FROM pg_roles r WHERE r.rolname = current_user
                        """).query().singleRow();
        if (!Boolean.TRUE.equals(role.get("replicates"))) {
            throw new LogModeUnavailableException(("outbox.relay.mode=log reads the write-ahead log through a"
                            + " replication slot, and the database user '%1$s' may not replicate. As an administrator,"
                            + " run ALTER ROLE \"%1$s\" WITH REPLICATION (on Amazon RDS and Aurora: GRANT"
                            + " rds_replication TO \"%1$s\"; on Google Cloud SQL: ALTER USER \"%1$s\" WITH"
                            + " REPLICATION), or set outbox.relay.mode=poll.")
                    .formatted(role.get("name")));
        }
        ensurePublication();
        ensureSlot();
        checkConnection();
    }

    /** Opens a replication connection once, so that a URL, user or pg_hba.conf that refuses it stops the start. */
    private void checkConnection() {
        try (Connection connection = this.connector.connect()) {
            connection.isValid(5);
        } catch (SQLException | RuntimeException ex) {
            throw new LogModeUnavailableException(
                    ("outbox.relay.mode=log reads the write-ahead log through a"
                                    + " replication connection of its own, which the server refused: %s. It goes to the URL,"
                                    + " user and password of the outbox's DataSource unless outbox.relay.log.url,"
                                    + " outbox.relay.log.username and outbox.relay.log.password say otherwise; it must reach"
                                    + " the database directly (connection poolers such as PgBouncer do not pass replication"
                                    + " on), pg_hba.conf must let the user connect to the database, and max_wal_senders"
                                    + " must have a sender free.")
                            .formatted(rootMessage(ex)),
                    ex);
        }
    }

    private void ensurePublication() {
        List<Map<String, @Nullable Object>> existing = this.jdbc
                .sql("""
                        SELECT p.pubinsert AS inserts,
                               EXISTS (SELECT 1 FROM pg_publication_rel pr
                                       WHERE pr.prpubid = p.oid AND pr.prrelid = to_regclass(:table)) OR p.puballtables
                                   AS covers
                        FROM pg_publication p WHERE p.pubname = :publication
                        """)
                .param("table", this.table.value())
                .param("publication", this.publication)
                .query()
                .listOfRows();
        if (existing.isEmpty()) {
            try {
                // A partitioned table's rows are published as the table's own, not as its partitions' (from
                // PostgreSQL 13 on).
                boolean viaRoot = this.jdbc
                        .sql("SELECT current_setting('server_version_num')::int >= 130000")
                        .query(Boolean.class)
                        .single();
                this.jdbc
                        .sql("CREATE PUBLICATION %s FOR TABLE %s WITH (publish = 'insert'%s)"
                                .formatted(
                                        this.publication,
                                        this.table,
                                        viaRoot ? ", publish_via_partition_root = true" : ""))
                        .update();
                log.info("Created publication '{}' of the inserts into table '{}'", this.publication, this.table);
            } catch (DataAccessException ex) {
                if (isState(ex, DUPLICATE_OBJECT)) {
                    return;
                }
                throw new LogModeUnavailableException(
                        ("Could not create the publication '%1$s' of table '%2$s' that"
                                        + " outbox.relay.mode=log reads: %3$s. Creating a publication needs the CREATE"
                                        + " privilege on the database and ownership of the table: have an administrator run"
                                        + " CREATE PUBLICATION %1$s FOR TABLE %2$s WITH (publish = 'insert')")
                                .formatted(this.publication, this.table, rootMessage(ex)),
                        ex);
            }
            return;
        }
        Map<String, @Nullable Object> publication = existing.get(0);
        if (!Boolean.TRUE.equals(publication.get("covers")) || !Boolean.TRUE.equals(publication.get("inserts"))) {
            throw new LogModeUnavailableException(("The publication '%1$s' exists but does not publish the inserts into"
                            + " table '%2$s', which outbox.relay.mode=log reads. Run ALTER PUBLICATION %1$s ADD TABLE"
                            + " %2$s and ALTER PUBLICATION %1$s SET (publish = 'insert'), or set"
                            + " outbox.relay.log.publication to a name of its own.")
                    .formatted(this.publication, this.table));
        }
    }

    private void ensureSlot() {
        if (status() != null) {
            return;
        }
        List<Map<String, @Nullable Object>> elsewhere = this.jdbc
                .sql("SELECT coalesce(database, '(none: a physical slot)') AS database FROM pg_replication_slots"
                        + " WHERE slot_name = :slot")
                .param("slot", this.slot)
                .query()
                .listOfRows();
        if (!elsewhere.isEmpty()) {
            throw new LogModeUnavailableException(("The replication slot '%s' exists, but for database %s, not this"
                            + " one: slot names are shared by all databases of a server. Set outbox.relay.log.slot to"
                            + " a name of this database's own.")
                    .formatted(this.slot, elsewhere.get(0).get("database")));
        }
        Map<String, @Nullable Object> slots = this.jdbc.sql("""
                        SELECT (SELECT count(*) FROM pg_replication_slots) AS used,
                               current_setting('max_replication_slots')::int AS max,
                               current_setting('max_wal_senders')::int AS senders
                        """).query().singleRow();
        long used = ((Number) Objects.requireNonNull(slots.get("used"))).longValue();
        long max = ((Number) Objects.requireNonNull(slots.get("max"))).longValue();
        if (used >= max || ((Number) Objects.requireNonNull(slots.get("senders"))).longValue() == 0) {
            throw new LogModeUnavailableException(("outbox.relay.mode=log needs a replication slot, and the server has"
                            + " none free: %d of max_replication_slots=%d are taken, and max_wal_senders=%s. Drop a"
                            + " slot no longer used (SELECT pg_drop_replication_slot('name'), see"
                            + " pg_replication_slots), or raise max_replication_slots (and max_wal_senders) and"
                            + " restart the server, or set outbox.relay.mode=poll.")
                    .formatted(used, max, slots.get("senders")));
        }
        createSlot();
    }

    private void createSlot() {
        try {
            this.jdbc
                    .sql("SELECT pg_create_logical_replication_slot(:slot, 'pgoutput')")
                    .param("slot", this.slot)
                    .query()
                    .listOfRows();
            this.madeSlot = true;
            log.info("Created replication slot '{}' with plugin pgoutput for table '{}'", this.slot, this.table);
        } catch (DataAccessException ex) {
            if (!isState(ex, DUPLICATE_OBJECT)) {
                throw new LogModeUnavailableException(
                        ("Could not create the replication slot '%s' that" + " outbox.relay.mode=log reads: %s")
                                .formatted(this.slot, rootMessage(ex)),
                        ex);
            }
        }
    }

    /**
     * The slot's state: how far its confirmed position lags behind the server's write-ahead log, whether a reader
     * reads it, and whether the server still keeps the WAL it needs; null when the slot does not exist.
     */
    public @Nullable SlotStatus status() {
        return this.jdbc
                .sql("""
                        SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), s.confirmed_flush_lsn), 0)::bigint AS lag,
                               s.active, coalesce(to_jsonb(s) ->> 'wal_status', 'reserved') AS wal_status
                        FROM pg_replication_slots s WHERE s.slot_name = :slot AND s.database = current_database()
                        """)
                .param("slot", this.slot)
                .query((rs, row) ->
                        new SlotStatus(rs.getLong("lag"), rs.getBoolean("active"), rs.getString("wal_status")))
                .optional()
                .orElse(null);
    }

    @Override
    public Reader open() throws Exception {
        prepare();
        SlotStatus status = status();
        if (status != null && status.lost()) {
            throw new LostException(
                    "the server removed write-ahead log that the slot still needed (wal_status"
                            + " 'lost'), as max_slot_wal_keep_size allows",
                    null);
        }
        long tableOid = this.jdbc
                .sql("SELECT to_regclass(:table)::oid")
                .param("table", this.table.value())
                .query(Long.class)
                .single();
        Connection connection = this.connector.connect();
        try {
            PGReplicationStream stream = connection
                    .unwrap(PGConnection.class)
                    .getReplicationAPI()
                    .replicationStream()
                    .logical()
                    .withSlotName(this.slot)
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", this.publication)
                    .withStatusInterval((int) STATUS_INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
                    .start();
            boolean fresh = this.madeSlot;
            this.madeSlot = false;
            return new SlotReader(connection, stream, new PgOutputDecoder(tableOid, "id"), fresh);
        } catch (SQLException ex) {
            closeQuietly(connection);
            if (OBJECT_IN_USE.equals(ex.getSQLState())) {
                throw new HeldElsewhereException(ex.getMessage(), ex);
            }
            String message = String.valueOf(ex.getMessage());
            if (message.contains("can no longer get changes") || message.contains("invalidated")) {
                throw new LostException(message, ex);
            }
            throw ex;
        } catch (RuntimeException | Error ex) {
            closeQuietly(connection);
            throw ex;
        }
    }

    @Override
    public void restart() {
        SlotStatus status = status();
        if (status != null && status.lost()) {
            this.jdbc
                    .sql("SELECT pg_drop_replication_slot(:slot)")
                    .param("slot", this.slot)
                    .query()
                    .listOfRows();
            log.warn("Dropped replication slot '{}', which the server had invalidated", this.slot);
        }
        prepare();
    }

    private static boolean isState(Throwable ex, String state) {
        for (Throwable each = ex; each != null; each = each.getCause()) {
            if (each instanceof SQLException sql && state.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable ex) {
        Throwable root = ex;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return String.valueOf(root.getMessage());
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException | RuntimeException ex) {
            log.debug("Could not close a replication connection", ex);
        }
    }

    /** Opens a replication connection ({@code replication=database}) to the outbox table's database. */
    @FunctionalInterface
    public interface Connector {

        /** Opens a connection. */
        Connection connect() throws SQLException;
    }

    /**
     * The state of a replication slot.
     *
     * @param lagBytes how many bytes of write-ahead log the server keeps for the slot beyond its confirmed position
     * @param active whether a reader reads it now
     * @param walStatus the server's word on the WAL the slot needs: {@code reserved}, {@code extended}, {@code
     *     unreserved} (about to be removed), or {@code lost} (removed: the slot is invalidated)
     */
    public record SlotStatus(long lagBytes, boolean active, String walStatus) {

        /** Whether the server removed WAL that the slot needed: the slot can no longer be read. */
        public boolean lost() {
            return "lost".equals(this.walStatus);
        }
    }

    /** Reads the stream in a thread of its own; see the class's description. */
    private final class SlotReader implements Reader {

        private final Connection connection;

        private final PGReplicationStream stream;

        private final PgOutputDecoder decoder;

        private final BlockingQueue<Commit> commits = new LinkedBlockingQueue<>(QUEUED_COMMITS);

        private final Thread receiver;

        private final boolean fresh;

        private volatile boolean closed;

        private volatile @Nullable Throwable failure;

        /** The position the relay confirmed last. */
        private volatile long confirmed;

        /** The position of the last transaction handed to the relay. */
        private volatile long handedOver;

        /** The highest position reported to the server; only the receiver's thread, then close(), touch it. */
        private long reported;

        SlotReader(Connection connection, PGReplicationStream stream, PgOutputDecoder decoder, boolean fresh) {
            this.fresh = fresh;
            this.connection = connection;
            this.stream = stream;
            this.decoder = decoder;
            this.receiver = DaemonThreads.start("outbox-log-" + ReplicationSlotLog.this.slot, this::receive);
        }

        private void receive() {
            long lastForced = System.nanoTime();
            long idleWait = MIN_IDLE_WAIT_NANOS;
            try {
                while (!this.closed) {
                    long done = this.confirmed;
                    if (done > this.reported) {
                        // The stream sends it at its status interval.
                        report(done);
                    }
                    ByteBuffer message = this.stream.readPending();
                    if (message != null) {
                        idleWait = MIN_IDLE_WAIT_NANOS;
                        Commit commit = this.decoder.accept(message);
                        if (commit != null && commit.ids().length > 0) {
                            handOver(commit);
                        } else if (commit != null && idle()) {
                            // A transaction of other tables, with nothing of the table's in hand: done with it.
                            report(commit.position());
                        }
                        continue;
                    }
                    if (idle()) {
                        // Everything received is done with: the server may drop the WAL up to what it sent last,
                        // also WAL of other tables, so that an idle outbox does not hold it.
                        long received = this.stream.getLastReceiveLSN().asLong();
                        if (received > this.reported
                                && System.nanoTime() - lastForced > TimeUnit.MILLISECONDS.toNanos(200)) {
                            report(received);
                            this.stream.forceUpdateStatus();
                            lastForced = System.nanoTime();
                        }
                    }
                    // An empty look at the stream costs a short blocking read: look less often the longer it is idle.
                    LockSupport.parkNanos(idleWait);
                    idleWait = Math.min(idleWait * 2, MAX_IDLE_WAIT_NANOS);
                }
            } catch (Throwable ex) {
                if (!this.closed) {
                    this.failure = ex;
                }
            }
        }

        /** Whether every transaction received was handed over and confirmed, and none is half received. */
        private boolean idle() {
            return this.commits.isEmpty() && !this.decoder.inTransaction() && this.confirmed >= this.handedOver;
        }

        private void handOver(Commit commit) throws SQLException, InterruptedException {
            while (!this.commits.offer(commit, 100, TimeUnit.MILLISECONDS)) {
                if (this.closed) {
                    return;
                }
                // The relay is behind: the stream waits, and the server keeps hearing that this reader is alive.
                report(this.confirmed);
                this.stream.forceUpdateStatus();
            }
            this.handedOver = commit.position();
        }

        /** Tells the stream a position to report, never one below what it reported already. */
        private void report(long position) {
            if (position > this.reported) {
                LogSequenceNumber lsn = LogSequenceNumber.valueOf(position);
                this.stream.setAppliedLSN(lsn);
                this.stream.setFlushedLSN(lsn);
                this.reported = position;
            }
        }

        @Override
        public @Nullable Commit poll(Duration timeout) throws Exception {
            Commit commit = this.commits.poll();
            if (commit == null && !timeout.isZero()) {
                commit = this.commits.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
            Throwable failed = this.failure;
            if (commit == null && failed != null) {
                if (failed instanceof Exception exception) {
                    throw exception;
                }
                throw (Error) failed;
            }
            return commit;
        }

        @Override
        public boolean fresh() {
            return this.fresh;
        }

        @Override
        public void confirm(long position) {
            if (position > this.confirmed) {
                this.confirmed = position;
            }
        }

        @Override
        public void close() {
            this.closed = true;
            DaemonThreads.awaitEnd(List.of(this.receiver), System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
            try {
                // Tells the server the last position, so that a reader taking over starts right after it.
                report(this.confirmed);
                this.stream.forceUpdateStatus();
                this.stream.close();
            } catch (SQLException | RuntimeException ex) {
                log.debug("Could not close the replication stream of slot '{}'", ReplicationSlotLog.this.slot, ex);
            }
            closeQuietly(this.connection);
        }
    }
}
