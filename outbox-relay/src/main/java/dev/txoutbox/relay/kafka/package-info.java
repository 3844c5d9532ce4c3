/**
 * The relay's Kafka publisher: an idempotent producer with {@code acks=all}, the checks of its configuration and of
 * the topics' durability.
 */
@NullMarked
package dev.txoutbox.relay.kafka;

import org.jspecify.annotations.NullMarked;
