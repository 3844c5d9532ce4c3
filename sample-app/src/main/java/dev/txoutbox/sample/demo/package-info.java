/**
 * The sample's burst endpoint, which writes many orders at once to show the relay drain them.
 */
@NullMarked
package dev.txoutbox.sample.demo;

import org.jspecify.annotations.NullMarked;
