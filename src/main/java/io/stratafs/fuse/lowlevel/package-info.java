/**
 * A jnr-ffi binding of libfuse 2's low-level (inode) API: one kernel inode per file, replies sent by
 * the filesystem, and the notify calls that invalidate the kernel's caches. Knows jnr-ffi and
 * jnr-fuse's structures, nothing of StrataFS's volume; a {@link io.stratafs.fuse.lowlevel.LowLevelFileSystem}
 * supplies the behaviour ({@link io.stratafs.fuse.StrataLowLevel} for the mount; see native-notes,
 * "libfuse low-level API").
 */
package io.stratafs.fuse.lowlevel;
