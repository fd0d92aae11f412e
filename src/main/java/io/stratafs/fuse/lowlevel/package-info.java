/**
 * A jnr-ffi binding of libfuse 2's low-level (inode) API: one kernel inode per file, replies sent by
 * the filesystem, and the notify calls that invalidate the kernel's caches. Knows jnr-ffi and
 * jnr-fuse's structures, nothing of StrataFS's volume; a {@link io.stratafs.fuse.lowlevel.LowLevelFileSystem}
 * supplies the behaviour. Not yet used by the mount (see native-notes, "libfuse low-level API").
 */
package io.stratafs.fuse.lowlevel;
