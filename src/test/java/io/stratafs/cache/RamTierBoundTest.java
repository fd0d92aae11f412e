package io.stratafs.cache;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RAM tier holds at most its bound even while the JVM's shared pool is busy: a 4 MiB block
 * over the bound is heap the daemon does not have (CrashIT's daemon died of OutOfMemoryError with
 * the tier far over its 128 MiB while that pool's single thread on a 2-core machine lagged).
 */
class RamTierBoundTest {
    @TempDir
    Path dir;

    @Test
    void theRamTierStaysWithinItsBoundWhileTheCommonPoolIsBusy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Future<?>> blockers = new ArrayList<>();
        ForkJoinPool pool = ForkJoinPool.commonPool();
        for (int i = 0; i < pool.getParallelism(); i++) {
            blockers.add(pool.submit(() -> {
                release.await();
                return null;
            }));
        }
        LmdbKv kv = new LmdbKv(dir, 256L << 20);
        Closer open = new Closer();
        try {
            long bound = 8L << 20;
            BlockCache c = open.add(new BlockCache(kv, List.of(new MemoryStore()), 128L << 20, bound));
            Random random = new Random(3);
            for (int i = 0; i < 40; i++) {
                byte[] data = new byte[1 << 20];
                random.nextBytes(data);
                BlockRef ref = new BlockRef(Sha256.of(data), data.length);
                boolean added = kv.write(txn -> c.stageDirty(txn, ref, data));
                c.committed(ref, data, added);
                assertTrue(c.ramHeldBytes() <= bound,
                        "after " + (i + 1) + " blocks of 1 MiB the RAM tier holds " + c.ramHeldBytes() + " bytes, over its bound of " + bound);
            }
        } finally {
            release.countDown();
            for (Future<?> f : blockers) {
                f.get();
            }
            open.close();
            kv.close();
        }
    }

    /** The tier weighs a block by the heap it takes: G1 gives an array of half a region or more whole regions. */
    @Test
    void aBlockIsWeighedByTheHeapItTakes() {
        assertEquals(5L << 20, BlockCache.heapFootprint(4 << 20, 1L << 20), "4 MiB in 1 MiB regions: 5 regions");
        assertEquals(6L << 20, BlockCache.heapFootprint(4 << 20, 2L << 20), "4 MiB in 2 MiB regions: 3 regions");
        assertEquals((4L << 20) + 64, BlockCache.heapFootprint(4 << 20, 16L << 20), "below half a region: its length");
        assertEquals(1L << 20, BlockCache.heapFootprint((1 << 19) - 16, 1L << 20), "exactly half a region with its header");
        assertEquals(1064, BlockCache.heapFootprint(1000, 0), "no G1: its length");
    }
}
