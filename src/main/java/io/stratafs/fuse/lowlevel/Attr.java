package io.stratafs.fuse.lowlevel;

import ru.serce.jnrfuse.struct.FileStat;

/** The attributes of one inode as a reply carries them; times in nanoseconds since the epoch. */
public record Attr(long ino, int mode, long nlink, int uid, int gid, long size, long atimeNs, long mtimeNs, long ctimeNs) {
    private static final int BLKSIZE = 4096;

    /** Writes this into {@code st}, which the caller zeroed or filled before. */
    public void fill(FileStat st) {
        st.st_ino.set(ino);
        st.st_mode.set(mode);
        st.st_nlink.set(nlink);
        st.st_uid.set(uid);
        st.st_gid.set(gid);
        st.st_size.set(size);
        st.st_blksize.set(BLKSIZE);
        st.st_blocks.set((size + 511) / 512);
        st.st_atim.tv_sec.set(atimeNs / 1_000_000_000L);
        st.st_atim.tv_nsec.set(atimeNs % 1_000_000_000L);
        st.st_mtim.tv_sec.set(mtimeNs / 1_000_000_000L);
        st.st_mtim.tv_nsec.set(mtimeNs % 1_000_000_000L);
        st.st_ctim.tv_sec.set(ctimeNs / 1_000_000_000L);
        st.st_ctim.tv_nsec.set(ctimeNs % 1_000_000_000L);
    }
}
