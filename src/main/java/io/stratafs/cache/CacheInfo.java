package io.stratafs.cache;

import io.stratafs.meta.Bytes;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * A block's {@code cache_info} record (docs/FORMAT.md): its length, whether it is dirty, and the
 * CRC32C of its bytes, and the check that a block read back from LMDB is the one stored.
 *
 * <p>No block enters the LMDB tier unchecked: a written block is named by the SHA-256 computed
 * from its bytes, a fetched one is verified against it. Reading it back only has to catch the
 * local disk changing it, which CRC32C does at a small fraction of SHA-256's cost (an intrinsic:
 * SHA-256 of every block loaded was a third of the daemon's CPU on a warm sequential read,
 * native-notes/warm-read-profile.md). Records written before the CRC existed are 5 bytes long;
 * their blocks are still checked with SHA-256.
 */
final class CacheInfo {
    static final byte CLEAN = 0;
    static final byte DIRTY = 1;
    /** Length (4) + state (1) + CRC32C (4). */
    static final int SIZE = 9;
    private static final int STATE = 4;
    private static final int CRC = 5;
    private static final ThreadLocal<CRC32C> CRC32C = ThreadLocal.withInitial(java.util.zip.CRC32C::new);
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    });

    private CacheInfo() {
    }

    /** The record of a block of {@code length} bytes, the first {@code length} of {@code data}. */
    static byte[] of(byte[] data, int length, byte state) {
        byte[] info = new byte[SIZE];
        Bytes.putInt(info, 0, length);
        info[STATE] = state;
        Bytes.putInt(info, CRC, crc(ByteBuffer.wrap(data, 0, length)));
        return info;
    }

    static int length(byte[] info) {
        return Bytes.getInt(info, 0);
    }

    /** The CRC32C of the block's bytes, or null when the record predates it (or there is none). */
    static Integer crc32c(byte[] info) {
        return info != null && info.length >= SIZE ? Bytes.getInt(info, CRC) : null;
    }

    static boolean dirty(byte[] info) {
        return info[STATE] == DIRTY;
    }

    static byte[] withState(byte[] info, byte state) {
        byte[] copy = info.clone();
        copy[STATE] = state;
        return copy;
    }

    /**
     * Whether {@code data} (read from position to limit, which is left alone) are the bytes stored
     * for {@code hash}: by the record's CRC32C when it has one, else (an older record, or none) by
     * SHA-256.
     */
    static boolean intact(byte[] info, byte[] hash, ByteBuffer data) {
        if (info != null && info.length >= SIZE) {
            return length(info) == data.remaining() && crc(data) == Bytes.getInt(info, CRC);
        }
        MessageDigest d = SHA256.get();
        d.reset();
        d.update(data.duplicate());
        return Arrays.equals(d.digest(), hash);
    }

    private static int crc(ByteBuffer data) {
        CRC32C c = CRC32C.get();
        c.reset();
        c.update(data.duplicate());
        return (int) c.getValue();
    }
}
