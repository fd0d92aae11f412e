package io.stratafs.fuse.lowlevel;

import jnr.ffi.Pointer;

/**
 * The {@code struct fuse_file_info} of an open or create, valid during the callback only. Its
 * fields are read and written at their offsets in the 2.9 header (checked against jnr-fuse's
 * {@code FuseFileInfo} by LayoutTest) rather than through a jnr {@code Struct}, whose construction
 * cost more than the rest of a release's adapter work and ran for every open, flush and release.
 * The bit-fields share one 32-bit word: direct_io is bit 0, keep_cache bit 1.
 */
public final class OpenFile {
    static final int FLAGS_OFFSET = 0;
    /** Offset of the bit-field word: int flags, 4 bytes padding, unsigned long fh_old, int writepage. */
    static final int BITS_OFFSET = 20;
    static final int FH_OFFSET = 24;
    private final Pointer memory;

    OpenFile(Pointer memory) {
        this.memory = memory;
    }

    /** The handle in {@code fi}, or 0 for a call without one (a null pointer). */
    static long fhOf(Pointer fi) {
        return fi == null ? 0 : fi.getLong(FH_OFFSET);
    }

    /** The open(2) flags. */
    public int flags() {
        return memory.getInt(FLAGS_OFFSET);
    }

    /** Sets the handle the kernel passes back with every later call on this open file. */
    public void fh(long fh) {
        memory.putLong(FH_OFFSET, fh);
    }

    public long fh() {
        return memory.getLong(FH_OFFSET);
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
