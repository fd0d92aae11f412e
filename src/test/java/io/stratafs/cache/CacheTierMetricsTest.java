package io.stratafs.cache;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.metrics.VolumeMetrics.ReadTier;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which tier served each read, and the corrupt copies met, as counted into the volume's metrics. */
class CacheTierMetricsTest {
    @TempDir
    Path dir;
    LmdbKv kv;
    final MemoryStore target = new MemoryStore();
    final VolumeMetrics metrics = new VolumeMetrics();

    final Closer closer = new Closer();

    @AfterEach
    void close() throws Exception {
        closer.close();
        if (kv != null) {
            kv.close();
        }
    }

    private BlockCache cache(long ramBytes) {
        kv = new LmdbKv(dir, 64L << 20);
        return closer.add(new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, ramBytes, 1, metrics));
    }

    private BlockRef inTarget(byte[] data) throws Exception {
        BlockRef ref = new BlockRef(Sha256.of(data), data.length);
        target.put(ObjectKeys.block(ref.hex()), data);
        return ref;
    }

    private static byte[] random(long seed) {
        byte[] d = new byte[10_000];
        new Random(seed).nextBytes(d);
        return d;
    }

    @Test
    void aColdReadIsAFetchAndTheNextOneAHitInRam() throws Exception {
        BlockCache c = cache(1 << 20);
        assertNull(metrics.cacheHitRatio(), "no ratio before the first read");
        byte[] data = random(1);
        BlockRef ref = inTarget(data);
        assertArrayEquals(data, c.get(ref));
        assertArrayEquals(data, c.get(ref));
        assertArrayEquals(data, c.get(ref));
        assertEquals(1, metrics.cacheReads(ReadTier.TARGET));
        assertEquals(2, metrics.cacheReads(ReadTier.RAM));
        assertEquals(0, metrics.cacheReads(ReadTier.LOCAL));
        assertEquals(2.0 / 3, metrics.cacheHitRatio(), 1e-9);
    }

    @Test
    void aBlockKeptOnDiskButNotInRamIsServedFromTheLocalCache() throws Exception {
        BlockRef ref = inTarget(random(2));
        cache(1 << 20).get(ref);
        BlockCache restarted = closer.add(new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, 1 << 20, 1, metrics));
        restarted.get(ref);
        assertEquals(1, metrics.cacheReads(ReadTier.TARGET));
        assertEquals(1, metrics.cacheReads(ReadTier.LOCAL));
    }

    @Test
    void corruptCopiesAreCountedByWhereTheyWere() throws Exception {
        byte[] data = random(3);
        BlockRef ref = inTarget(data);
        BlockCache first = cache(1 << 20);
        first.get(ref);
        assertTrue(first.awaitFills(10_000), "the fetched block reached the LMDB tier");
        kv.writeVoid(txn -> txn.put(Table.CACHE_DATA, ref.hash(), random(4)));
        BlockCache c = closer.add(new BlockCache(kv, List.of(target), new int[] {0}, 16L << 20, 1 << 20, 1, metrics));
        assertArrayEquals(data, c.get(ref), "a corrupt local copy is fetched again");
        assertEquals(1, metrics.errors(ErrorKind.CORRUPT_CACHE_BLOCK));

        byte[] other = random(5);
        BlockRef bad = new BlockRef(Sha256.of(other), other.length);
        target.put(ObjectKeys.block(bad.hex()), random(6));
        assertThrows(BlockUnavailableException.class, () -> c.get(bad));
        assertEquals(1, metrics.errors(ErrorKind.CORRUPT_OBJECT));
    }
}
