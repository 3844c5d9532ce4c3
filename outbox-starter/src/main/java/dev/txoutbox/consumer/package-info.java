/**
 * Consumer-side de-duplication on the application's database, and its auto-configuration.
 */
@NullMarked
package dev.txoutbox.consumer;

import org.jspecify.annotations.NullMarked;
