/**
 * Spring Modulith event externalization through the outbox: the events Modulith would externalize are written to the
 * outbox in the transaction that publishes them, and the relay publishes them to Kafka. Configured by its
 * auto-configuration; not API.
 */
@NullMarked
package dev.txoutbox.modulith;

import org.jspecify.annotations.NullMarked;
