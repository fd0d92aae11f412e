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
    private boolean noFlush;

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

    /**
     * Tell the kernel not to send a flush when this open file is closed ({@code FOPEN_NOFLUSH},
     * Linux 5.16): for an open that cannot write, whose flush would do nothing but cost the closing
     * process a round trip. libfuse 2's {@code fuse_file_info} has no bit for it, so
     * {@link Request#replyOpen} writes the reply itself when it is set. Older kernels ignore the flag
     * and flush as before.
     */
    public void noFlush(boolean on) {
        noFlush = on;
    }

    boolean noFlush() {
        return noFlush;
    }

    /** Whether the kernel may keep cached pages (bit 1 of the bit-field word). */
    boolean keepCache() {
        return (memory.getInt(BITS_OFFSET) & (1 << 1)) != 0;
    }

    /** Whether reads and writes bypass the page cache (bit 0). */
    boolean directIo() {
        return (memory.getInt(BITS_OFFSET) & 1) != 0;
    }

    Pointer memory() {
        return memory;
    }

    private void bit(int bit, boolean on) {
        int word = memory.getInt(BITS_OFFSET);
        memory.putInt(BITS_OFFSET, on ? word | (1 << bit) : word & ~(1 << bit));
    }
}
