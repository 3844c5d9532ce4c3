/**
 * Test support for applications that write events through the outbox: {@link dev.txoutbox.test.AutoConfigureOutboxTest}
 * switches it on; {@link dev.txoutbox.test.WrittenEvents} shows which events a test wrote, without Kafka;
 * {@link dev.txoutbox.test.OutboxDrain} waits until the relay has published the outbox.
 */
@NullMarked
package dev.txoutbox.test;

import org.jspecify.annotations.NullMarked;
