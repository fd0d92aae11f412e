package io.stratafs.meta;

/**
 * The attributes of one inode. Times are nanoseconds since the epoch. Immutable: changes make a
 * new record with the {@code with*} methods.
 */
public record Inode(long ino, int mode, int uid, int gid, int nlink, long size,
                    long atimeNs, long mtimeNs, long ctimeNs, long rdev) {

    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFSOCK = 0140000;
    private static final int RECORD_VERSION = 1;
    private static final int RECORD_SIZE = 1 + 4 * 4 + 8 * 5;

    public boolean isDir() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean isRegular() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean isSymlink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    public Inode withSize(long newSize, long nowNs) {
        return new Inode(ino, mode, uid, gid, nlink, newSize, atimeNs, nowNs, nowNs, rdev);
    }

    public Inode withMode(int newMode, long nowNs) {
        return new Inode(ino, (mode & S_IFMT) | (newMode & 07777), uid, gid, nlink, size, atimeNs, mtimeNs, nowNs, rdev);
    }

    public Inode withOwner(int newUid, int newGid, long nowNs) {
        return new Inode(ino, mode, newUid, newGid, nlink, size, atimeNs, mtimeNs, nowNs, rdev);
    }

    public Inode withNlink(int newNlink, long nowNs) {
        return new Inode(ino, mode, uid, gid, newNlink, size, atimeNs, mtimeNs, nowNs, rdev);
    }

    public Inode withTimes(long newAtimeNs, long newMtimeNs, long newCtimeNs) {
        return new Inode(ino, mode, uid, gid, nlink, size, newAtimeNs, newMtimeNs, newCtimeNs, rdev);
    }

    /** Only the attributes changed: ctime moves. */
    public Inode changed(long nowNs) {
        return withTimes(atimeNs, mtimeNs, nowNs);
    }

    /** Content or entries changed: mtime and ctime move. */
    public Inode touched(long nowNs) {
        return withTimes(atimeNs, nowNs, nowNs);
    }

    public byte[] encode() {
        byte[] b = new byte[RECORD_SIZE];
        b[0] = RECORD_VERSION;
        Bytes.putInt(b, 1, mode);
        Bytes.putInt(b, 5, uid);
        Bytes.putInt(b, 9, gid);
        Bytes.putInt(b, 13, nlink);
        Bytes.putLong(b, 17, size);
        Bytes.putLong(b, 25, atimeNs);
        Bytes.putLong(b, 33, mtimeNs);
        Bytes.putLong(b, 41, ctimeNs);
        Bytes.putLong(b, 49, rdev);
        return b;
    }

    public static Inode decode(long ino, byte[] b) {
        if (b.length != RECORD_SIZE || b[0] != RECORD_VERSION) {
            throw new MetaException("inode " + ino + " has an unreadable record (version " + b[0] + ", " + b.length + " bytes)");
        }
        return new Inode(ino, Bytes.getInt(b, 1), Bytes.getInt(b, 5), Bytes.getInt(b, 9), Bytes.getInt(b, 13),
                Bytes.getLong(b, 17), Bytes.getLong(b, 25), Bytes.getLong(b, 33), Bytes.getLong(b, 41),
                Bytes.getLong(b, 49));
    }
}
