package io.stratafs.vfs;

/** One open file description: the inode, the flags it was opened with, and the commit failures it has reported. */
final class Handle {
    static final int O_ACCMODE = 03;
    static final int O_WRONLY = 01;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;

    private final long ino;
    private final int flags;
    private final OpenFile file;
    /** {@link OpenFile#commitErrors} as this handle last reported it; guarded by the file's monitor. */
    int seenCommitErrors;

    Handle(long ino, int flags, OpenFile file) {
        this.ino = ino;
        this.flags = flags;
        this.file = file;
    }

    long ino() {
        return ino;
    }

    int flags() {
        return flags;
    }

    OpenFile file() {
        return file;
    }

    boolean append() {
        return (flags & O_APPEND) != 0;
    }
}
