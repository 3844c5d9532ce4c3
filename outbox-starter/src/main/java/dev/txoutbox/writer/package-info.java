/**
 * The writer behind {@link dev.txoutbox.OutboxEvent} and {@link dev.txoutbox.Outbox}: it serializes events and
 * inserts them as outbox rows in the caller's transaction. Configured by its auto-configuration; not API.
 */
@NullMarked
package dev.txoutbox.writer;

import org.jspecify.annotations.NullMarked;
