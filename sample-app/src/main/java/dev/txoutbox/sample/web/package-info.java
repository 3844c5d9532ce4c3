/**
 * The sample's HTTP error responses.
 */
@NullMarked
package dev.txoutbox.sample.web;

import org.jspecify.annotations.NullMarked;
