/**
 * A small shop that writes payment events through the outbox, and its tests, written the way an application's tests
 * use the test kit.
 */
@NullMarked
package dev.txoutbox.test.example;

import org.jspecify.annotations.NullMarked;
