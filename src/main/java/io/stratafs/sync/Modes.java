package io.stratafs.sync;

/** The file type bits of a mode, as stat(2) defines them. */
final class Modes {
    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;
    static final int PERM = 07777;

    private Modes() {
    }

    static boolean validType(int type) {
        return type == S_IFSOCK || type == S_IFLNK || type == S_IFREG || type == S_IFBLK
                || type == S_IFDIR || type == S_IFCHR || type == S_IFIFO;
    }
}
