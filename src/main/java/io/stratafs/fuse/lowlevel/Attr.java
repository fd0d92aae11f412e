package io.stratafs.fuse.lowlevel;

import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * The attributes of one inode as a reply carries them; times in nanoseconds since the epoch.
 * {@code blksize} is the I/O size tools such as cp take as their buffer size.
 */
public record Attr(long ino, int mode, long nlink, int uid, int gid, long size, long atimeNs, long mtimeNs, long ctimeNs,
                   long rdev, int blksize) {
    private static final int BLKSIZE = 4096;

    /** Attributes of a file that is no device, with a 4 KiB I/O size. */
    public Attr(long ino, int mode, long nlink, int uid, int gid, long size, long atimeNs, long mtimeNs, long ctimeNs) {
        this(ino, mode, nlink, uid, gid, size, atimeNs, mtimeNs, ctimeNs, 0, BLKSIZE);
    }

    /** Offsets in glibc's x86_64 {@code struct stat} (144 bytes); LayoutTest checks them against jnr-fuse's FileStat. */
    static final int ST_INO = 8;
    static final int ST_NLINK = 16;
    static final int ST_MODE = 24;
    static final int ST_UID = 28;
    static final int ST_GID = 32;
    static final int ST_RDEV = 40;
    static final int ST_SIZE = 48;
    static final int ST_BLKSIZE = 56;
    static final int ST_BLOCKS = 64;
    static final int ST_ATIM = 72;
    static final int ST_MTIM = 88;
    static final int ST_CTIM = 104;

    /**
     * Writes this as a {@code struct stat} at {@code base} in {@code p}, whose other bytes (st_dev,
     * padding) the caller zeroed. Plain stores at fixed offsets rather than jnr-fuse's
     * {@code FileStat} fields: each field set there went through several calls, and C2 spent
     * 200 ms compiling the 39 kB this method grew to, on every fresh mount.
     */
    void fill(Pointer p, long base) {
        p.putLong(base + ST_INO, ino);
        p.putLong(base + ST_NLINK, nlink);
        p.putInt(base + ST_MODE, mode);
        p.putInt(base + ST_UID, uid);
        p.putInt(base + ST_GID, gid);
        p.putLong(base + ST_RDEV, rdev);
        p.putLong(base + ST_SIZE, size);
        p.putLong(base + ST_BLKSIZE, blksize);
        p.putLong(base + ST_BLOCKS, (size + 511) / 512);
        time(p, base + ST_ATIM, atimeNs);
        time(p, base + ST_MTIM, mtimeNs);
        time(p, base + ST_CTIM, ctimeNs);
    }

    /** Writes this into {@code st} (the path API's structure), which the caller zeroed or filled before. */
    public void fill(FileStat st) {
        fill(Struct.getMemory(st), 0);
    }

    private static void time(Pointer p, long at, long ns) {
        p.putLong(at, Math.floorDiv(ns, 1_000_000_000L));
        p.putLong(at + 8, Math.floorMod(ns, 1_000_000_000L));
    }
}
