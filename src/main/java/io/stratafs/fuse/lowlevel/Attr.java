package io.stratafs.fuse.lowlevel;

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

    /** Writes this into {@code st}, which the caller zeroed or filled before. */
    public void fill(FileStat st) {
        st.st_ino.set(ino);
        st.st_mode.set(mode);
        st.st_nlink.set(nlink);
        st.st_uid.set(uid);
        st.st_gid.set(gid);
        st.st_size.set(size);
        st.st_rdev.set(rdev);
        st.st_blksize.set(blksize);
        st.st_blocks.set((size + 511) / 512);
        st.st_atim.tv_sec.set(Math.floorDiv(atimeNs, 1_000_000_000L));
        st.st_atim.tv_nsec.set(Math.floorMod(atimeNs, 1_000_000_000L));
        st.st_mtim.tv_sec.set(Math.floorDiv(mtimeNs, 1_000_000_000L));
        st.st_mtim.tv_nsec.set(Math.floorMod(mtimeNs, 1_000_000_000L));
        st.st_ctim.tv_sec.set(Math.floorDiv(ctimeNs, 1_000_000_000L));
        st.st_ctim.tv_nsec.set(Math.floorMod(ctimeNs, 1_000_000_000L));
    }
}
