/**
 * A sample order service that publishes its events through the outbox.
 */
@NullMarked
package dev.txoutbox.sample;

import org.jspecify.annotations.NullMarked;
