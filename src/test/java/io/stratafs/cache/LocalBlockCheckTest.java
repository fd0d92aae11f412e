package io.stratafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocks read back from the LMDB tier are checked against the CRC32C stored with them, not
 * SHA-256; a record written before the CRC existed still gets SHA-256. Either way a block the local
 * disk changed is never served.
 */
class LocalBlockCheckTest {
    @TempDir
    Path dir;
    LmdbKv kv;
    final MemoryStore target = new MemoryStore();
    final VolumeMetrics metrics = new VolumeMetrics();
    BlockCache cache;

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir, 64L << 20);
        cache = new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, 0, 1, metrics);
    }

    @AfterEach
    void close() {
        cache.close();
        kv.close();
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private BlockRef stage(byte[] data) {
        BlockRef r = new BlockRef(Sha256.of(data), data.length);
        boolean added = kv.write(txn -> cache.stageDirty(txn, r, data));
        cache.committed(r, data, added);
        return r;
    }

    private void uploadAll() throws Exception {
        List<byte[]> pending = cache.pending(0, 1000);
        for (byte[] h : pending) {
            target.put(ObjectKeys.block(Bytes.hex(h)), cache.readLocal(h));
        }
        cache.uploaded(0, pending);
    }

    /** Flips one bit of the block's bytes in LMDB, as a failing disk would; the length stays. */
    private void flipLocally(BlockRef r, int at) {
        kv.writeVoid(txn -> {
            byte[] d = txn.get(Table.CACHE_DATA, r.hash());
            d[at] ^= 1;
            txn.put(Table.CACHE_DATA, r.hash(), d);
        });
    }

    private byte[] info(BlockRef r) {
        return kv.read(txn -> txn.get(Table.CACHE_INFO, r.hash()));
    }

    @Test
    void aFlippedBitInACleanLocalBlockIsCaughtAndTheBlockFetchedAgain() throws Exception {
        byte[] data = random(100_000, 1);
        BlockRef r = stage(data);
        uploadAll();
        assertEquals(CacheInfo.SIZE, info(r).length, "the record carries the CRC32C");
        flipLocally(r, 77_777);
        assertArrayEquals(data, cache.get(r));
        assertEquals(1, metrics.errors(ErrorKind.CORRUPT_CACHE_BLOCK));
        assertTrue(cache.awaitFills(10_000), "the good copy reached the LMDB tier");
        assertArrayEquals(data, kv.read(txn -> txn.get(Table.CACHE_DATA, r.hash())), "the local copy was replaced");
    }

    @Test
    void aFlippedBitInADirtyBlockIsNeverServedNorUploadedAfterARestart() {
        byte[] data = random(100_000, 2);
        BlockRef r = stage(data);
        flipLocally(r, 5);
        cache.close();
        cache = new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, 0, 1, metrics);
        BlockUnavailableException upload = assertThrows(BlockUnavailableException.class, () -> cache.readLocal(r.hash()));
        assertTrue(upload.getMessage().contains("corrupt in the local cache"), upload.getMessage());
        assertThrows(BlockUnavailableException.class, () -> cache.get(r), "no target has it yet");
    }

    @Test
    void aRecordFromBeforeTheCrcIsCheckedWithSha256() throws Exception {
        byte[] data = random(100_000, 3);
        BlockRef r = stage(data);
        uploadAll();
        byte[] legacy = new byte[5];
        Bytes.putInt(legacy, 0, data.length);
        legacy[4] = CacheInfo.CLEAN;
        kv.writeVoid(txn -> txn.put(Table.CACHE_INFO, r.hash(), legacy));

        assertArrayEquals(data, cache.get(r), "an intact block under an old record is served");
        assertEquals(0, metrics.errors(ErrorKind.CORRUPT_CACHE_BLOCK));
        flipLocally(r, 99_999);
        assertArrayEquals(data, cache.get(r));
        assertEquals(1, metrics.errors(ErrorKind.CORRUPT_CACHE_BLOCK));
        assertTrue(cache.awaitFills(10_000), "the good copy reached the LMDB tier");
        assertEquals(CacheInfo.SIZE, info(r).length, "the replaced copy got a record with its CRC32C");
        assertEquals(CacheInfo.CLEAN, info(r)[4]);
    }

    @Test
    void theCrcSurvivesTheBlockBecomingClean() throws Exception {
        byte[] data = random(4096, 4);
        BlockRef r = stage(data);
        byte[] dirty = info(r);
        uploadAll();
        byte[] clean = info(r);
        assertEquals(CacheInfo.DIRTY, dirty[4]);
        assertEquals(CacheInfo.CLEAN, clean[4]);
        assertEquals(Bytes.getInt(dirty, 5), Bytes.getInt(clean, 5));
    }

    @Test
    void aPieceIsCopiedStraightFromTheLocalTierAndZerosFollowTheBlocksEnd() throws Exception {
        byte[] data = random(100_000, 5);
        BlockRef r = stage(data);
        uploadAll();
        BlockCache restarted = new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, 16L << 20, 1, metrics);
        try {
            byte[] dst = new byte[40_000];
            java.util.Arrays.fill(dst, (byte) 7);
            restarted.read(r, 70_000, dst, 5_000, 35_000);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 70_000, 100_000), java.util.Arrays.copyOfRange(dst, 5_000, 35_000));
            assertArrayEquals(new byte[5_000], java.util.Arrays.copyOfRange(dst, 35_000, 40_000), "past the block's end");
            assertEquals((byte) 7, dst[4_999], "before the destination offset nothing is written");
            assertEquals(1, metrics.cacheReads(io.stratafs.metrics.VolumeMetrics.ReadTier.LOCAL));
            assertEquals(0, restarted.ramHeldBytes(), "a local hit is not copied into the RAM tier");
        } finally {
            restarted.close();
        }
    }

    @Test
    void aPieceOfACorruptLocalBlockComesFromTheTargetNeverFromTheBadCopy() throws Exception {
        byte[] data = random(100_000, 6);
        BlockRef r = stage(data);
        uploadAll();
        flipLocally(r, 10);
        byte[] dst = new byte[100];
        cache.read(r, 0, dst, 0, 100);
        assertArrayEquals(java.util.Arrays.copyOf(data, 100), dst);
        assertEquals(1, metrics.errors(ErrorKind.CORRUPT_CACHE_BLOCK));
        assertEquals(1, metrics.cacheReads(io.stratafs.metrics.VolumeMetrics.ReadTier.TARGET));
    }

    @Test
    void aBlockEvictedAfterItsCheckIsFetchedAgain() throws Exception {
        BlockCache small = new BlockCache(kv, List.of(target), new int[] {0}, 150_000, 0, 1, metrics);
        try {
            byte[] first = random(100_000, 7);
            BlockRef r = new BlockRef(Sha256.of(first), first.length);
            target.put(ObjectKeys.block(r.hex()), first);
            byte[] dst = new byte[10];
            small.read(r, 0, dst, 0, 10);
            assertTrue(small.awaitFills(10_000), "the fetched block reached the LMDB tier");
            small.read(r, 0, dst, 0, 10);
            assertEquals(1, metrics.cacheReads(io.stratafs.metrics.VolumeMetrics.ReadTier.LOCAL), "kept and checked");
            byte[] second = random(100_000, 8);
            BlockRef r2 = new BlockRef(Sha256.of(second), second.length);
            target.put(ObjectKeys.block(r2.hex()), second);
            small.read(r2, 0, dst, 0, 10);
            assertTrue(small.awaitFills(10_000), "the second block reached the LMDB tier");
            assertNull(kv.read(txn -> txn.get(Table.CACHE_DATA, r.hash())), "the first block was evicted");
            small.read(r, 5, dst, 0, 10);
            assertArrayEquals(java.util.Arrays.copyOfRange(first, 5, 15), dst);
            assertEquals(3, metrics.cacheReads(io.stratafs.metrics.VolumeMetrics.ReadTier.TARGET));
        } finally {
            small.close();
        }
    }
}
