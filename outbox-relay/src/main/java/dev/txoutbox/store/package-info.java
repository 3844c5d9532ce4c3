/**
 * The outbox tables: their names, dialects, migrations, event ids, the writers' inserts (also in a JDBC transaction
 * of the caller's own, or in a Spring transaction without Spring Boot), statistics, dead letters and the processed
 * event ids of consumer-side de-duplication.
 */
@NullMarked
package dev.txoutbox.store;

import org.jspecify.annotations.NullMarked;
