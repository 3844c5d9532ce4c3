/**
 * A downstream read model kept from the order events, idempotently.
 */
@NullMarked
package dev.txoutbox.sample.readmodel;

import org.jspecify.annotations.NullMarked;
