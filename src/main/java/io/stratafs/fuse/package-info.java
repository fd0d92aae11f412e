/**
 * The FUSE adapter (the only code that knows jnr-fuse): translates the low-level API's requests to
 * {@code vfs} calls and exceptions to errno through one barrier, and keeps the names the kernel holds
 * for each inode (the VFS and the site log speak paths). Holds no filesystem behaviour of its own.
 */
package io.stratafs.fuse;
