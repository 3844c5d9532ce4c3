/**
 * What PostgreSQL alone offers the relay: wake-ups of the relays of other instances through {@code LISTEN}/{@code
 * NOTIFY} (without them relays find new rows at their poll interval), and the log of the outbox table's commits read
 * from the write-ahead log through a logical replication slot, for the relay's log mode.
 */
@NullMarked
package dev.txoutbox.relay.postgresql;

import org.jspecify.annotations.NullMarked;
