/**
 * The relay engine: claims committed outbox rows, publishes them in key order, deletes them once acknowledged, and
 * retries or dead-letters failures. {@link dev.txoutbox.relay.OutboxRelay} runs it; it needs no Spring Boot.
 */
@NullMarked
package dev.txoutbox.relay;

import org.jspecify.annotations.NullMarked;
