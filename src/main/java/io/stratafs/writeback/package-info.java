/**
 * Write-back: the persistent upload queue (LMDB tables PENDING and JOURNAL), per-target uploaders
 * that ship blocks before the journal segments and checkpoints that name them, and recovery of a
 * namespace from a target. Talks to the cache and meta layers and to ObjectStore; never to FUSE.
 */
package io.stratafs.writeback;
