/**
 * Maintenance of a volume's storage while it may be mounted: fsck (every referenced block present
 * and intact in every target, the namespace whole, journal and checkpoints in agreement) and gc
 * (collection of objects no site references). Reads storage through {@code store} and replays it
 * with {@code writeback}'s recovery; never touches a mounted cache, {@code vfs} or {@code fuse}.
 */
package io.stratafs.ops;
