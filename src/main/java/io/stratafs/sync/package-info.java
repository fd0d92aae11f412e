/**
 * Sites: the logical operations a site makes, how another site merges them into its own tree, and
 * the daemon that exchanges them. The merge is deterministic: any two sites that applied the same
 * operations present the same tree, whatever order the operations arrived in (docs/SEMANTICS.md,
 * "Sites"). Never imports {@code vfs} or {@code fuse}.
 */
package io.stratafs.sync;
