package io.stratafs.vfs;

/** One open file description: the inode and the flags it was opened with. */
record Handle(long ino, int flags, OpenFile file) {
    static final int O_ACCMODE = 03;
    static final int O_WRONLY = 01;
    static final int O_RDWR = 02;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_TRUNC = 01000;
    static final int O_APPEND = 02000;

    boolean append() {
        return (flags & O_APPEND) != 0;
    }
}
