package dev.txoutbox.relay.postgresql;

import dev.txoutbox.store.TableName;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * What log mode needs of the server, checked, and made where it is missing: {@code wal_level=logical}, a user who may
 * replicate, the publication of the table's inserts, a free replication slot, and a replication connection that
 * opens. Each refusal is a {@link LogModeUnavailableException} that says what to change.
 */
final class ReplicationSetup {

    private static final Logger log = LoggerFactory.getLogger(ReplicationSlotLog.class);

    /** PostgreSQL's SQL state for an object that exists already. */
    private static final String DUPLICATE_OBJECT = "42710";

    private final JdbcClient jdbc;

    private final TableName table;

    private final ReplicationSlotLog.Connector connector;

    private final String slot;

    private final String publication;

    ReplicationSetup(
            JdbcClient jdbc, TableName table, ReplicationSlotLog.Connector connector, String slot, String publication) {
        this.jdbc = jdbc;
        this.table = table;
        this.connector = connector;
        this.slot = slot;
        this.publication = publication;
    }

    /**
     * Checks that log mode can run, and makes the publication and the slot when they are missing.
     *
     * @param slotExists whether the slot exists in this database already
     * @return whether it made the slot
     * @throws LogModeUnavailableException saying what to change when it cannot
     */
    boolean prepare(boolean slotExists) {
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
        boolean made = !slotExists && ensureSlot();
        checkConnection();
        return made;
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

    /** Makes the slot, unless another database has a slot of its name or none is free; false when another made it. */
    private boolean ensureSlot() {
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
        return createSlot();
    }

    private boolean createSlot() {
        try {
            this.jdbc
                    .sql("SELECT pg_create_logical_replication_slot(:slot, 'pgoutput')")
                    .param("slot", this.slot)
                    .query()
                    .listOfRows();
            log.info("Created replication slot '{}' with plugin pgoutput for table '{}'", this.slot, this.table);
            return true;
        } catch (DataAccessException ex) {
            if (!isState(ex, DUPLICATE_OBJECT)) {
                throw new LogModeUnavailableException(
                        "Could not create the replication slot '%s' that outbox.relay.mode=log reads: %s"
                                .formatted(this.slot, rootMessage(ex)),
                        ex);
            }
        }
        return false;
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
}
