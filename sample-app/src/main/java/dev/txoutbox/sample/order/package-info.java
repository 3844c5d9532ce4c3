/**
 * The sample's orders: entity, service and REST API; each change writes an event in its transaction.
 */
@NullMarked
package dev.txoutbox.sample.order;

import org.jspecify.annotations.NullMarked;
