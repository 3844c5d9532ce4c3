package dev.txoutbox.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.txoutbox.relay.OutboxRelay;
import dev.txoutbox.relay.OutboxRelayListener;
import dev.txoutbox.relay.RecordPublisher;
import dev.txoutbox.relay.RelaySettings;
import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.store.OutboxStore;
import java.util.List;
import javax.sql.DataSource;

/** Relays in log mode on the embedded PostgreSQL server, and stores whose writers take no key locks. */
public final class LogMode {

    private LogMode() {}

    /** A migrated outbox table in a database of its own, written without key locks, as log mode writes. */
    public static OutboxStore newStore() {
        return withoutKeyLocks(OutboxTestTables.newStore(TestDatabase.POSTGRESQL));
    }

    /** The same table, written without key locks. */
    public static OutboxStore withoutKeyLocks(OutboxStore store) {
        return new OutboxStore(store.dataSource(), store.dialect(), store.table(), store.parkKeys(), false);
    }

    /** The log of the table's commits, through a slot named after its database and it. */
    public static ReplicationSlotLog log(OutboxStore store) {
        return ReplicationSlotLog.of(store.dataSource(), store.table(), connector(store.dataSource()));
    }

    /** A relay in log mode on the table. */
    public static OutboxRelay relay(OutboxStore store, RecordPublisher publisher, RelaySettings settings) {
        return relay(store, publisher, settings, List.of());
    }

    /** A relay in log mode on the table, with listeners. */
    public static OutboxRelay relay(
            OutboxStore store,
            RecordPublisher publisher,
            RelaySettings settings,
            List<? extends OutboxRelayListener> listeners) {
        return OutboxRelay.tailing(store, publisher, settings, listeners, log(store));
    }

    /** Replication connections to the database behind a data source of the embedded server. */
    public static ReplicationSlotLog.Connector connector(DataSource dataSource) {
        String url;
        try (var connection = dataSource.getConnection()) {
            url = connection.getMetaData().getURL();
        } catch (java.sql.SQLException ex) {
            throw new IllegalStateException(ex);
        }
        // The relay's replication session carries the pool's application name too, so that a test that cuts the
        // relay's sessions by that name cuts its walsender as well.
        if (dataSource instanceof HikariDataSource pool
                && pool.getDataSourceProperties().getProperty("ApplicationName") != null) {
            url += (url.contains("?") ? "&" : "?") + "ApplicationName="
                    + pool.getDataSourceProperties().getProperty("ApplicationName");
        }
        return ReplicationSlotLog.connector(url, "postgres", null);
    }
}
