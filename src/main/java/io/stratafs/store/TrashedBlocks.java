package io.stratafs.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a block from a target, falling back to the copy gc moved to {@code trash/}. gc moves a
 * block it finds unreferenced to the trash before it deletes it on a later run (docs/FORMAT.md,
 * "Garbage collection"); a write in flight may reference it again in between, so every reader
 * looks there too and a block found there is put back where it belongs.
 */
public final class TrashedBlocks {
    private static final Logger LOG = LoggerFactory.getLogger(TrashedBlocks.class);

    private TrashedBlocks() {
    }

    /** The block's bytes from {@code blocks/}, else from {@code trash/} (restored to {@code blocks/} when its hash matches). */
    public static byte[] read(ObjectStore target, String hashHex) throws StoreException {
        try {
            return target.get(ObjectKeys.block(hashHex));
        } catch (ObjectNotFoundException missing) {
            byte[] data;
            try {
                data = target.get(ObjectKeys.trashedBlock(hashHex));
            } catch (ObjectNotFoundException notTrashed) {
                throw missing;
            }
            if (matches(data, hashHex)) {
                target.put(ObjectKeys.block(hashHex), data);
                LOG.warn("block {} was in the trash of {} although a file references it; it is back in place", hashHex, target.describe());
            }
            return data;
        }
    }

    /** Whether {@code data} hashes to {@code hashHex} (SHA-256). */
    public static boolean matches(byte[] data, String hashHex) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)).equals(hashHex);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
