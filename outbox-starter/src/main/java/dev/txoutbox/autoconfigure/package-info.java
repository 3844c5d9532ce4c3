/**
 * Spring Boot auto-configuration of the outbox's store, relay, Actuator endpoint, health and metrics, and the
 * {@code outbox.*} properties.
 */
@NullMarked
package dev.txoutbox.autoconfigure;

import org.jspecify.annotations.NullMarked;
