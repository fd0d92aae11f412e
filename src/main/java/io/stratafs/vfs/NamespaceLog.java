package io.stratafs.vfs;

import io.stratafs.meta.Inode;
import io.stratafs.meta.KvWriteTxn;

/**
 * What the VFS tells the site's log about each namespace change it makes, inside the change's own
 * write transaction, so the logical operation commits or aborts with it. A hook that throws aborts
 * the change. Paths are the ones the call was made with; the inode is the one it changed.
 */
public interface NamespaceLog {
    int MODE = 1;
    int UID = 2;
    int GID = 4;
    int ATIME = 8;
    int MTIME = 16;

    /** Logs nothing: a volume without a replica (unit tests of the VFS alone). */
    NamespaceLog NONE = new NamespaceLog() {
    };

    /** A new file, directory, symlink or device at {@code path}. */
    default void created(KvWriteTxn txn, String path, Inode inode, byte[] symlinkTarget) throws FsException {
    }

    default void linked(KvWriteTxn txn, String existing, String newPath, long ino) throws FsException {
    }

    /** A rename that changed something (not one onto another name of the same file). */
    default void renamed(KvWriteTxn txn, String from, String to, long ino) throws FsException {
    }

    /** unlink or rmdir, or libfuse hiding an open file (its name goes all the same). */
    default void removed(KvWriteTxn txn, String path, long ino) throws FsException {
    }

    /** The attributes named in {@code mask} ({@link #MODE}, ...) now have the values in {@code after}. */
    default void attributes(KvWriteTxn txn, String path, int mask, Inode after) throws FsException {
    }

    /** setxattr, or removexattr when {@code valueOrNull} is null. */
    default void xattr(KvWriteTxn txn, String path, long ino, String name, byte[] valueOrNull) throws FsException {
    }

    /** The file's committed content changed (written blocks or a truncate); not logged until settled. */
    default void contentChanged(KvWriteTxn txn, long ino) {
    }

    /**
     * A write transaction of the VFS ended (committed, or aborted by a throw), on the thread that ran
     * it, outside it: what the hooks above logged in it is now visible to other transactions, so a
     * reader of the log (the site's publisher) can be told here and find it.
     */
    default void transactionEnded() {
    }

    /**
     * The file's content may be logged now: its last handle closed, an fsync, or a truncate of a
     * file nobody has open. Called outside any transaction.
     */
    default void contentSettled(long ino) throws FsException {
    }
}
