package dev.txoutbox.autoconfigure;

import dev.txoutbox.relay.postgresql.ReplicationSlotLog;
import dev.txoutbox.store.OutboxDialects;
import dev.txoutbox.store.OutboxStore;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Warns, when the relay polls a PostgreSQL table, of the replication slot that log mode left behind: nobody reads it
 * any more, and the server keeps every byte of WAL from its position on until it is dropped.
 */
final class LeftoverReplicationSlot {

    private static final Logger log = LoggerFactory.getLogger(OutboxRelayAutoConfiguration.class);

    private LeftoverReplicationSlot() {}

    static void warnIfAny(OutboxStore store, OutboxRelayLogProperties logProperties) {
        if (!OutboxDialects.postgres().productName().equals(store.dialect().productName())) {
            return;
        }
        try {
            JdbcClient jdbc = JdbcClient.create(store.dataSource());
            String database =
                    jdbc.sql("SELECT current_database()").query(String.class).single();
            String slot = Objects.requireNonNullElse(
                    logProperties.getSlot(), ReplicationSlotLog.defaultSlotName(database, store.table()));
            String publication = Objects.requireNonNullElse(
                    logProperties.getPublication(), ReplicationSlotLog.defaultPublicationName(store.table()));
            Optional<Long> lag =
                    jdbc.sql("""
                            SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), confirmed_flush_lsn), 0)::bigint
                            FROM pg_replication_slots WHERE slot_name = :slot AND database = current_database()
                            """).param("slot", slot).query(Long.class).optional();
            if (lag.isPresent()) {
                log.warn(
                        "Outbox: the replication slot '{}' of the relay's log mode exists, but the relay polls table"
                                + " '{}' (outbox.relay.mode=poll): nobody reads the slot, and the server keeps all"
                                + " write-ahead log from its position on ({} bytes so far) until it is dropped. Drop"
                                + " it with SELECT pg_drop_replication_slot('{}'); DROP PUBLICATION {}; or set"
                                + " outbox.relay.mode=log again.",
                        slot,
                        store.table(),
                        lag.get(),
                        slot,
                        publication);
            }
        } catch (RuntimeException ex) {
            log.debug("Outbox: could not look for a replication slot left by log mode", ex);
        }
    }
}
