/**
 * Keeps a mounted site's namespace and its replica in step: every local namespace change is also a
 * logical operation in the site's log, committed in the same LMDB transaction, and every peer
 * operation the sync daemon applies is materialized into the namespace tables the VFS serves, in
 * the same transaction as its application. Imports vfs, meta, sync and journal; nothing below
 * imports it.
 */
package io.stratafs.mount;
