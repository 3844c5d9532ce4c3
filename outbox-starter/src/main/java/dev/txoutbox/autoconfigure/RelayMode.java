package dev.txoutbox.autoconfigure;

/** How the relay finds the rows to publish: {@code outbox.relay.mode}. */
public enum RelayMode {

    /** Claims rows from the table with {@code SELECT … FOR UPDATE SKIP LOCKED}; any number of relays share it. */
    POLL,

    /**
     * Reads the table's committed inserts from PostgreSQL's write-ahead log through a logical replication slot, in
     * commit order; one relay reads, the others wait as standbys. Writers take no key lock.
     */
    LOG
}
