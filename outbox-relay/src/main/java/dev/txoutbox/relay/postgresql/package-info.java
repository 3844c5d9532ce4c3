/**
 * Wake-ups of the relays of other instances through PostgreSQL's {@code LISTEN}/{@code NOTIFY}, a feature of that
 * database, not of the engine: without it relays find new rows at their poll interval.
 */
@NullMarked
package dev.txoutbox.relay.postgresql;

import org.jspecify.annotations.NullMarked;
