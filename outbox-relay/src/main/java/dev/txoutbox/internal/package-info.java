/**
 * Helpers shared by the outbox's own packages and modules (the starter's writer too). Not API: they may change in
 * any release.
 */
@NullMarked
package dev.txoutbox.internal;

import org.jspecify.annotations.NullMarked;
