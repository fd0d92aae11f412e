package io.stratafs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Table;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.StoreException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A block fetched from a target reaches its reader without waiting for the LMDB tier (CacheFill),
 * and a block fetched ahead is fetched once however many readers ask for it meanwhile (ReadAhead).
 */
class ColdReadPathTest {
    @TempDir
    Path dir;
    LmdbKv kv;
    BlockCache cache;
    final MemoryStore memory = new MemoryStore();
    final GatedStore target = new GatedStore(memory);
    final CountDownLatch fillMayGo = new CountDownLatch(1);

    @AfterEach
    void close() {
        fillMayGo.countDown();
        target.open();
        if (cache != null) {
            cache.close();
        }
        if (kv != null) {
            kv.close();
        }
    }

    private BlockCache cache() {
        kv = new LmdbKv(dir, 256L << 20);
        cache = new BlockCache(kv, List.of(target), new int[] {0}, 128L << 20, 0, 2);
        return cache;
    }

    private BlockRef inTarget(byte[] data) throws StoreException {
        BlockRef r = new BlockRef(Sha256.of(data), data.length);
        memory.put(ObjectKeys.block(r.hex()), data);
        return r;
    }

    private boolean inLmdb(BlockRef r) {
        return kv.read(txn -> txn.get(Table.CACHE_DATA, r.hash())) != null;
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private void holdFills() {
        cache.fillHooks(ref -> fillMayGo.await());
    }

    @Test
    void aReaderIsServedWhileTheFillIsHeldUp() throws Exception {
        cache();
        holdFills();
        byte[] data = random(300_000, 1);
        BlockRef r = inTarget(data);
        assertArrayEquals(data, cache.get(r), "served from the fetched bytes");
        byte[] dst = new byte[1000];
        cache.read(r, 5000, dst, 0, dst.length);
        assertArrayEquals(Arrays.copyOfRange(data, 5000, 6000), dst);
        assertTrue(!inLmdb(r), "the fill is still held up");
        fillMayGo.countDown();
        assertTrue(cache.awaitFills(10_000), "the fill finished");
        assertTrue(inLmdb(r), "then the block is in the LMDB tier");
    }

    @Test
    void aCorruptObjectIsRefusedAndNeverFilled() throws Exception {
        cache();
        byte[] good = random(200_000, 2);
        BlockRef r = new BlockRef(Sha256.of(good), good.length);
        memory.put(ObjectKeys.block(r.hex()), random(200_000, 3));
        assertThrows(BlockUnavailableException.class, () -> cache.get(r));
        byte[] dst = new byte[100];
        assertThrows(BlockUnavailableException.class, () -> cache.read(r, 0, dst, 0, dst.length));
        cache.prefetch(r);
        assertTrue(target.awaitGets(3, 10_000), "the read-ahead fetched it too");
        assertTrue(cache.awaitFills(10_000));
        assertTrue(!inLmdb(r), "nothing corrupt reached the LMDB tier");
        assertNull(kv.read(txn -> txn.get(Table.CACHE_INFO, r.hash())));
    }

    @Test
    void fillsBeyondTheQueueAreDroppedAndTheirReadersStillServed() throws Exception {
        cache();
        holdFills();
        List<BlockRef> refs = new ArrayList<>();
        List<byte[]> blocks = new ArrayList<>();
        int n = BlockCache.FILL_QUEUE_BLOCKS + 3;
        for (int i = 0; i < n; i++) {
            byte[] d = random(50_000, 10 + i);
            blocks.add(d);
            refs.add(inTarget(d));
        }
        for (int i = 0; i < n; i++) {
            assertArrayEquals(blocks.get(i), cache.get(refs.get(i)));
        }
        // one fill is taken by the held fill thread, the queue holds FILL_QUEUE_BLOCKS; the rest is dropped
        assertTrue(cache.droppedFills() >= n - BlockCache.FILL_QUEUE_BLOCKS - 1, "dropped: " + cache.droppedFills());
        fillMayGo.countDown();
        assertTrue(cache.awaitFills(10_000));
        assertTrue(inLmdb(refs.get(0)), "the first fill was done");
        assertTrue(!inLmdb(refs.get(n - 1)), "the last one was dropped");
        assertArrayEquals(blocks.get(n - 1), cache.get(refs.get(n - 1)), "a dropped block is fetched again when needed");
    }

    @Test
    void aReaderWaitsForTheReadAheadInFlightInsteadOfFetchingAgain() throws Exception {
        cache();
        byte[] data = random(400_000, 4);
        BlockRef r = inTarget(data);
        target.shut();
        cache.prefetch(r);
        assertTrue(target.awaitWaiting(1, 10_000), "the read-ahead's GET is in flight");
        byte[] dst = new byte[data.length];
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                cache.read(r, 0, dst, 0, dst.length);
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (reader.getState() != Thread.State.WAITING && reader.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "the reader never waited: " + reader.getState());
            Thread.onSpinWait();
        }
        target.open();
        reader.join(10_000);
        assertNull(failed.get());
        assertArrayEquals(data, dst);
        assertEquals(1, target.gets.get(), "one GET for the read-ahead and its reader");
        assertEquals(0, cache.readAheadHeldBytes(), "a block read through is let go");
    }

    @Test
    void aBlockFetchedAheadIsHeldUntilReadThroughThenLetGo() throws Exception {
        cache();
        byte[] data = random(256 << 10, 5);
        BlockRef r = inTarget(data);
        cache.prefetch(r);
        assertTrue(target.awaitGets(1, 10_000));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (cache.readAheadHeldBytes() == 0) {
            assertTrue(System.nanoTime() < deadline, "the fetched block was never held");
            Thread.onSpinWait();
        }
        byte[] piece = new byte[128 << 10];
        cache.read(r, 0, piece, 0, piece.length);
        assertArrayEquals(Arrays.copyOf(data, piece.length), piece);
        assertEquals(data.length, cache.readAheadHeldBytes(), "half read: still held");
        cache.read(r, piece.length, piece, 0, piece.length);
        assertArrayEquals(Arrays.copyOfRange(data, piece.length, data.length), piece);
        assertEquals(0, cache.readAheadHeldBytes(), "read through: let go");
        assertEquals(1, target.gets.get());
    }

    /** A store over a MemoryStore whose GETs can be held at a gate, counting them. */
    static final class GatedStore extends ForwardingStore {
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger waiting = new AtomicInteger();
        private volatile CountDownLatch gate = new CountDownLatch(0);

        GatedStore(MemoryStore inner) {
            super(inner);
        }

        /** The test's MemoryStore outlives the cache: closing would clear it. */
        @Override
        public void close() {
        }

        /** GETs wait at the gate from now on. */
        void shut() {
            gate = new CountDownLatch(1);
        }

        void open() {
            gate.countDown();
        }

        boolean awaitWaiting(int n, long timeoutMs) {
            return await(waiting, n, timeoutMs);
        }

        boolean awaitGets(int n, long timeoutMs) {
            return await(gets, n, timeoutMs);
        }

        private static boolean await(AtomicInteger counter, int n, long timeoutMs) {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (counter.get() < n) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.onSpinWait();
            }
            return true;
        }

        @Override
        public byte[] get(String key) throws StoreException {
            waiting.incrementAndGet();
            try {
                if (!gate.await(10, TimeUnit.SECONDS)) {
                    throw new StoreException("the test's gate stayed closed");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StoreException("interrupted at the test's gate");
            }
            byte[] data = inner.get(key);
            gets.incrementAndGet();
            return data;
        }

        @Override
        public String describe() {
            return "gated " + inner.describe();
        }
    }
}
