/**
 * The outbox tables: their names, dialects, migrations, the writer's insert, statistics, dead letters and the
 * processed event ids of consumer-side de-duplication.
 */
@NullMarked
package dev.txoutbox.store;

import org.jspecify.annotations.NullMarked;
