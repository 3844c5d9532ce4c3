package dev.txoutbox.relay.postgresql;

import dev.txoutbox.relay.CommitLog;
import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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

    /** How often the reader tells the server where it is, at least. */
    private static final Duration STATUS_INTERVAL = Duration.ofSeconds(1);

    private final DataSource dataSource;

    private final JdbcClient jdbc;

    private final TableName table;

    private final Connector connector;

    private final String slot;

    private final String publication;

    private final ReplicationSetup setup;

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
        this.setup = new ReplicationSetup(this.jdbc, table, connector, this.slot, this.publication);
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
        if (this.setup.prepare(status() != null)) {
            this.madeSlot = true;
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
            return new SlotReader(this.slot, connection, stream, new PgOutputDecoder(tableOid, "id"), fresh);
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

    static void closeQuietly(Connection connection) {
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
}
