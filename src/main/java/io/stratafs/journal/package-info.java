/**
 * The logical log's life on storage: how a site's envelopes are encoded, published as segments no
 * other writer can replace, announced by a small head object, read back by peers from that site's
 * storage, and how far this site has applied each peer's log (cursors) and when to look again
 * (polling). Knows {@code sync}'s contract types, {@code store} and {@code meta}'s key-value
 * interface; never imports {@code vfs} or {@code fuse}, and never decides what an operation means.
 */
package io.stratafs.journal;
