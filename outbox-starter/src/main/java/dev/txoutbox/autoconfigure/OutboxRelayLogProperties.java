package dev.txoutbox.autoconfigure;

import org.jspecify.annotations.Nullable;
import org.springframework.util.unit.DataSize;

/** The relay's log mode ({@code outbox.relay.mode=log}): {@code outbox.relay.log.*}. */
public class OutboxRelayLogProperties {

    /**
     * Name of the logical replication slot the relay reads. Unset, the database's name and the outbox table's,
     * followed by _relay: slot names are shared by all databases of a server. The relay creates it when it is
     * missing.
     */
    private @Nullable String slot;

    /**
     * Name of the publication of the outbox table's inserts that the slot streams. Unset, the outbox table's name
     * followed by _relay. The relay creates it when it is missing.
     */
    private @Nullable String publication;

    /**
     * JDBC URL of the relay's replication connection to the outbox's database: a direct connection, since connection
     * poolers do not pass replication on. Unset, the URL of the outbox's DataSource.
     */
    private @Nullable String url;

    /**
     * User of the replication connection, who needs the REPLICATION attribute (rds_replication on Amazon RDS). Unset,
     * the user of the outbox's DataSource.
     */
    private @Nullable String username;

    /** Password of the replication connection. Unset, the password of the outbox's DataSource. */
    private @Nullable String password;

    /**
     * How much write-ahead log the slot may hold back beyond its confirmed position before the outbox's health is
     * DOWN: the server keeps that WAL until the relay has published what it holds.
     */
    private DataSize maxSlotLag = DataSize.ofGigabytes(1);

    public @Nullable String getSlot() {
        return this.slot;
    }

    public void setSlot(@Nullable String slot) {
        this.slot = slot;
    }

    public @Nullable String getPublication() {
        return this.publication;
    }

    public void setPublication(@Nullable String publication) {
        this.publication = publication;
    }

    public @Nullable String getUrl() {
        return this.url;
    }

    public void setUrl(@Nullable String url) {
        this.url = url;
    }

    public @Nullable String getUsername() {
        return this.username;
    }

    public void setUsername(@Nullable String username) {
        this.username = username;
    }

    public @Nullable String getPassword() {
        return this.password;
    }

    public void setPassword(@Nullable String password) {
        this.password = password;
    }

    public DataSize getMaxSlotLag() {
        return this.maxSlotLag;
    }

    public void setMaxSlotLag(DataSize maxSlotLag) {
        this.maxSlotLag = maxSlotLag;
    }
}
