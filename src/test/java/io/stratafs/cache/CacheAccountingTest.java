package io.stratafs.cache;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.CacheFullException;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * The cache's accounting against what LMDB really stores (issue 7, items 4 and 5): small blocks
 * in a small map, a full map, and an upload that overtakes the committing thread.
 */
class CacheAccountingTest {
    /** In memory where there is a tmpfs: the tests commit some 30,000 transactions, each flushed. */
    @TempDir(factory = InMemoryWhereAvailable.class)
    Path dir;
    LmdbKv kv;
    MemoryStore a = new MemoryStore();

    static final class InMemoryWhereAvailable implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws java.io.IOException {
            Path shm = Path.of("/dev/shm");
            return Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "stratafs-test-")
                    : Files.createTempDirectory("stratafs-test-");
        }
    }

    final Closer closer = new Closer();

    @AfterEach
    void close() throws Exception {
        closer.close();
        if (kv != null) {
            kv.close();
        }
    }

    private BlockCache cache(long capacity, long mapBytes) {
        kv = new LmdbKv(dir, mapBytes);
        return closer.add(new BlockCache(kv, List.of(a), capacity, 0));
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private static BlockRef ref(byte[] data) {
        return new BlockRef(Sha256.of(data), data.length);
    }

    /** Commits blocks as a writer does: reserve their room, stage them in one transaction, account, release. */
    private List<BlockRef> write(BlockCache c, List<byte[]> blocks) throws Exception {
        List<BlockRef> refs = new ArrayList<>();
        long room = 0;
        for (byte[] b : blocks) {
            refs.add(ref(b));
            room += c.footprint(b.length);
        }
        c.reserveDirty(room);
        try {
            boolean[] added = new boolean[blocks.size()];
            kv.writeVoid(txn -> {
                for (int i = 0; i < blocks.size(); i++) {
                    added[i] = c.stageDirty(txn, refs.get(i), blocks.get(i));
                }
            });
            for (int i = 0; i < blocks.size(); i++) {
                c.committed(refs.get(i), blocks.get(i), added[i]);
            }
        } finally {
            c.releaseDirty(room);
        }
        return refs;
    }

    /** Uploads what is pending, as the write-back uploader does. */
    private void upload(BlockCache c) throws Exception {
        List<byte[]> pending = c.pending(0, 1000);
        for (byte[] h : pending) {
            a.put(ObjectKeys.block(Bytes.hex(h)), c.readLocal(h));
        }
        c.uploaded(0, pending);
    }

    /** Stages blocks without a writer's reservation until LMDB refuses one for lack of map. */
    private List<BlockRef> fillMapWithDirtyBlocks(BlockCache c, int size) {
        List<BlockRef> refs = new ArrayList<>();
        for (int i = 0;; i++) {
            byte[] data = random(size, 1_000_000 + i);
            BlockRef r = ref(data);
            try {
                boolean added = kv.write(txn -> c.stageDirty(txn, r, data));
                c.committed(r, data, added);
                refs.add(r);
            } catch (CacheFullException full) {
                return refs;
            }
        }
    }

    /**
     * 4 MiB of cache in a 6 MiB map (the mount gives LMDB a quarter more than --cache-size plus
     * slack). Blocks of 2.1 to 4.2 KiB each take one or two 4 KiB overflow pages, so counting
     * their bytes lets the map fill before eviction starts.
     */
    @Test
    void tensOfThousandsOfSmallBlocksFitASmallCacheAndReadBackCold() throws Exception {
        BlockCache c = cache(4L << 20, 6L << 20);
        Random sizes = new Random(42);
        List<BlockRef> refs = new ArrayList<>();
        List<Long> seeds = new ArrayList<>();
        for (int batch = 0; batch < 2500; batch++) {
            List<byte[]> blocks = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                long seed = batch * 8L + i;
                seeds.add(seed);
                blocks.add(random(2100 + sizes.nextInt(2100), seed));
            }
            refs.addAll(write(c, blocks));
            upload(c);
        }
        assertEquals(0, c.dirtyBytes());
        assertTrue(c.cachedBytes() <= c.capacityBytes(), "the cache stays within its size: " + c.cachedBytes());
        for (int i = 0; i < refs.size(); i++) {
            byte[] expected = random(refs.get(i).length(), seeds.get(i));
            assertArrayEquals(expected, c.get(refs.get(i)), "block " + i);
        }
        assertTrue(kv.liveBytes() <= kv.mapBytes(), "LMDB's own pages stay within the map");
    }

    /** Blocks counted by what LMDB stores them in: one 4 KiB block takes two overflow pages. */
    @Test
    void aBlockIsCountedInTheLmdbPagesItTakes() throws Exception {
        BlockCache c = cache(1L << 20, 64L << 20);
        assertTrue(c.footprint(4096) >= 2 * 4096, "4096 bytes plus the page header need two pages");
        assertTrue(c.footprint(4080) >= 4096 && c.footprint(4080) < 2 * 4096, "4080 bytes fit one overflow page");
        assertTrue(c.footprint(100) < 4096, "small blocks sit in leaf pages");
        write(c, List.of(random(4096, 1)));
        assertEquals(c.footprint(4096), c.dirtyBytes());
    }

    /** A cold read must not fail because the fetched copy cannot be kept. */
    @Test
    void aColdReadReturnsTheBlockWhenAFullMapCannotKeepIt() throws Exception {
        BlockCache c = cache(64L << 20, 2L << 20);
        fillMapWithDirtyBlocks(c, 5000);
        byte[] data = random(5000, 7);
        BlockRef r = ref(data);
        a.put(ObjectKeys.block(r.hex()), data);
        assertArrayEquals(data, c.get(r));
        assertNull(kv.read(txn -> txn.get(io.stratafs.meta.Table.CACHE_DATA, r.hash())), "there was no room to keep it");
    }

    /**
     * A map nearly full of dirty blocks (the target is slow): a writer's commit of 480 KB that does not fit
     * waits until uploads make blocks clean and evictable, rather than failing with ENOSPC.
     */
    @Test
    void aWriterAtAFullMapWaitsForUploadsInsteadOfFailing() throws Exception {
        BlockCache c = cache(64L << 20, 4L << 20);
        for (int i = 0; kv.liveBytes() < kv.mapBytes() * 23 / 25; i++) {
            byte[] d = random(4000, 500 + i);
            BlockRef r = ref(d);
            boolean added = kv.write(txn -> c.stageDirty(txn, r, d));
            c.committed(r, d, added);
        }
        List<byte[]> commit = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            commit.add(random(4000, 10_000 + i));
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                write(c, commit);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        writer.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (writer.getState() != Thread.State.WAITING && writer.getState() != Thread.State.TIMED_WAITING) {
            assertNull(failure.get(), "the writer failed instead of waiting");
            assertNotEquals(Thread.State.TERMINATED, writer.getState(), "the writer finished although the map had no room");
            assertTrue(System.nanoTime() < deadline, "the writer never waited: " + writer.getState());
            Thread.onSpinWait();
        }
        upload(c);
        writer.join(10_000);
        assertNull(failure.get(), "the writer failed after the upload made room");
        assertEquals(Thread.State.TERMINATED, writer.getState());
        for (byte[] d : commit) {
            assertArrayEquals(d, c.get(ref(d)));
        }
    }

    /** A commit bigger than the room left in a map full of clean blocks evicts some and is retried. */
    @Test
    void aWriteThatFindsTheMapFullEvictsCleanBlocksAndIsRetried() throws Exception {
        BlockCache c = cache(64L << 20, 4L << 20);
        for (int i = 0; kv.liveBytes() < kv.mapBytes() * 3 / 4; i++) {
            write(c, List.of(random(4000, 20_000 + i)));
            upload(c);
        }
        List<byte[]> blocks = new ArrayList<>();
        List<BlockRef> refs = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            blocks.add(random(4000, 30_000 + i));
            refs.add(ref(blocks.get(i)));
        }
        kv.writeVoid(txn -> {
            for (int i = 0; i < blocks.size(); i++) {
                c.stageDirty(txn, refs.get(i), blocks.get(i));
            }
        });
        for (int i = 0; i < blocks.size(); i++) {
            assertArrayEquals(blocks.get(i), c.readLocal(refs.get(i).hash()));
        }
    }

    /**
     * Item 5: the uploader can finish a block between the writer's commit and its call to
     * committed(); the block must still end clean, not dirty forever.
     */
    @Test
    void anUploadThatOvertakesTheCommitterLeavesNothingDirty() throws Exception {
        BlockCache c = cache(1L << 20, 64L << 20);
        byte[] data = random(4096, 3);
        BlockRef r = ref(data);
        boolean added = kv.write(txn -> c.stageDirty(txn, r, data));
        upload(c);
        c.committed(r, data, added);
        assertEquals(0, c.dirtyBytes(), "an uploaded block is not dirty");
        assertEquals(0, c.dirtyBlocks());
        assertTrue(c.cachedBytes() > 0, "it stays cached, clean");
        assertArrayEquals(data, c.get(r));
        c.reserveDirty(c.dirtyLimitBytes());
        c.releaseDirty(c.dirtyLimitBytes());
    }

    @Test
    void aBlockThatCanNeverFitTheMapIsRefusedAtOnce() {
        BlockCache c = cache(64L << 20, 2L << 20);
        assertThrows(DirtyLimitException.class, () -> c.reserveDirty(c.footprint(4 << 20)));
    }
}
