/**
 * The FUSE adapter (the only code that knows jnr-fuse): translates callbacks to {@code vfs} calls and
 * exceptions to errno through one barrier. Holds no filesystem behaviour of its own.
 */
package io.stratafs.fuse;
