package io.stratafs.sync;

/**
 * A local operation that POSIX refuses, checked against the tree as this site presents it. The kind
 * is the errno name, so the FUSE layer maps it without reading the message.
 */
public final class SyncException extends Exception {
    /** The errno a refused operation maps to. */
    public enum Kind { ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, EINVAL, EPERM, EROFS }

    private final Kind kind;

    public SyncException(Kind kind, String msg) {
        super(msg);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
