/**
 * The outbox's API: the {@link dev.txoutbox.OutboxEvent} annotation, the {@link dev.txoutbox.Outbox} facade, the
 * record header names, the payload serializer SPI and consumer-side de-duplication.
 */
@NullMarked
package dev.txoutbox;

import org.jspecify.annotations.NullMarked;
