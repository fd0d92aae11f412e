package io.stratafs.fuse.lowlevel;

import jnr.ffi.Pointer;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The {@code struct fuse_file_info} of an open or create, valid during the callback only. jnr-fuse's
 * {@link FuseFileInfo} has the right offsets for flags and fh but exposes the bit-fields only as
 * padding, so they are set in their 32-bit word directly: direct_io is bit 0, keep_cache bit 1.
 */
public final class OpenFile {
    /** Offset of the bit-field word: int flags, 4 bytes padding, unsigned long fh_old, int writepage. */
    static final int BITS_OFFSET = 20;
    private final Pointer memory;
    private final FuseFileInfo info;

    OpenFile(Pointer memory) {
        this.memory = memory;
        this.info = FuseFileInfo.of(memory);
    }

    /** The open(2) flags. */
    public int flags() {
        return info.flags.get();
    }

    /** Sets the handle the kernel passes back with every later call on this open file. */
    public void fh(long fh) {
        info.fh.set(fh);
    }

    public long fh() {
        return info.fh.get();
    }

    /** Bypass the page cache for this open file. */
    public void directIo(boolean on) {
        bit(0, on);
    }

    /** Keep the pages cached from earlier opens (the filesystem vouches the file did not change). */
    public void keepCache(boolean on) {
        bit(1, on);
    }

    Pointer memory() {
        return memory;
    }

    private void bit(int bit, boolean on) {
        int word = memory.getInt(BITS_OFFSET);
        memory.putInt(BITS_OFFSET, on ? word | (1 << bit) : word & ~(1 << bit));
    }
}
