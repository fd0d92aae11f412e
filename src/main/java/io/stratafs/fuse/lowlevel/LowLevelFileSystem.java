package io.stratafs.fuse.lowlevel;

import java.nio.ByteBuffer;

/**
 * A filesystem served through libfuse's low-level API: every call names inodes, not paths, and
 * answers through its {@link Request}. Only the methods an implementation overrides are given to
 * libfuse; for the rest the op stays NULL and libfuse answers as the header documents (ENOSYS, or
 * success for open/opendir/release/flush, which the kernel then stops sending). A method that
 * throws is answered with EIO and logged by {@link LowLevelMount}. Inode 1 is the root.
 */
public interface LowLevelFileSystem {
    long ROOT = 1;
    /** Linux x86_64 errno for an operation the filesystem does not provide. */
    int ENOSYS = 38;

    default void lookup(Request r, long parent, String name) {
        r.replyErr(ENOSYS);
    }

    /** The kernel dropped {@code nlookup} references to {@code ino}; answered with replyNone. */
    default void forget(Request r, long ino, long nlookup) {
        r.replyNone();
    }

    default void getattr(Request r, long ino) {
        r.replyErr(ENOSYS);
    }

    default void setattr(Request r, long ino, SetAttrs changes) {
        r.replyErr(ENOSYS);
    }

    default void mkdir(Request r, long parent, String name, int mode) {
        r.replyErr(ENOSYS);
    }

    default void unlink(Request r, long parent, String name) {
        r.replyErr(ENOSYS);
    }

    default void rmdir(Request r, long parent, String name) {
        r.replyErr(ENOSYS);
    }

    default void rename(Request r, long parent, String name, long newParent, String newName) {
        r.replyErr(ENOSYS);
    }

    default void link(Request r, long ino, long newParent, String newName) {
        r.replyErr(ENOSYS);
    }

    default void open(Request r, long ino, OpenFile fi) {
        r.replyOpen(fi);
    }

    default void read(Request r, long ino, long size, long off, long fh) {
        r.replyErr(ENOSYS);
    }

    /** {@code data} is valid during the call only. */
    default void write(Request r, long ino, ByteBuffer data, long off, long fh) {
        r.replyErr(ENOSYS);
    }

    default void flush(Request r, long ino, long fh) {
        r.replyErr(0);
    }

    default void release(Request r, long ino, long fh) {
        r.replyErr(0);
    }

    default void fsync(Request r, long ino, boolean datasync, long fh) {
        r.replyErr(ENOSYS);
    }

    default void opendir(Request r, long ino, OpenFile fi) {
        r.replyOpen(fi);
    }

    default void readdir(Request r, long ino, long size, long off, long fh) {
        r.replyErr(ENOSYS);
    }

    default void releasedir(Request r, long ino, long fh) {
        r.replyErr(0);
    }

    default void statfs(Request r, long ino) {
        r.replyStatfs(4096, 0, 0, 0, 0, 255);
    }

    default void create(Request r, long parent, String name, int mode, OpenFile fi) {
        r.replyErr(ENOSYS);
    }

    default void readlink(Request r, long ino) {
        r.replyErr(ENOSYS);
    }

    default void mknod(Request r, long parent, String name, int mode, long rdev) {
        r.replyErr(ENOSYS);
    }

    default void symlink(Request r, String target, long parent, String name) {
        r.replyErr(ENOSYS);
    }

    default void fsyncdir(Request r, long ino, boolean datasync, long fh) {
        r.replyErr(ENOSYS);
    }

    /** {@code value} is valid during the call only. */
    default void setxattr(Request r, long ino, String name, byte[] value, int flags) {
        r.replyErr(ENOSYS);
    }

    /** {@code size} 0 asks for the value's length ({@link Request#replyXattr}); see {@link Request#replyXattrValue}. */
    default void getxattr(Request r, long ino, String name, long size) {
        r.replyErr(ENOSYS);
    }

    /** As {@link #getxattr}, for the NUL-separated list of names. */
    default void listxattr(Request r, long ino, long size) {
        r.replyErr(ENOSYS);
    }

    default void removexattr(Request r, long ino, String name) {
        r.replyErr(ENOSYS);
    }
}
