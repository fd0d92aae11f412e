package io.stratafs.cache;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.BlockRef;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockCacheTest {
    @TempDir
    Path dir;
    LmdbKv kv;
    MemoryStore a = new MemoryStore();
    MemoryStore b = new MemoryStore();

    final Closer closer = new Closer();

    @AfterEach
    void close() throws Exception {
        closer.close();
        if (kv != null) {
            kv.close();
        }
    }

    private BlockCache cache(long capacity, ObjectStore... targets) {
        kv = new LmdbKv(dir, 256L << 20);
        return closer.add(new BlockCache(kv, List.of(targets), capacity, 0));
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private static BlockRef ref(byte[] data) {
        return new BlockRef(Sha256.of(data), data.length);
    }

    private BlockRef stage(BlockCache c, byte[] data) {
        BlockRef r = ref(data);
        boolean added = kv.write(txn -> c.stageDirty(txn, r, data));
        c.committed(r, data, added);
        return r;
    }

    /** Uploads what is pending for target t, as the write-back uploader does. */
    private void upload(BlockCache c, int t, ObjectStore target) throws Exception {
        List<byte[]> pending = c.pending(t, 1000);
        for (byte[] h : pending) {
            target.put(ObjectKeys.block(io.stratafs.meta.Bytes.hex(h)), c.readLocal(h));
        }
        c.uploaded(t, pending);
    }

    @Test
    void pendingAfterAHashListsEachBlockOnceInHashOrderAndOnlyPerTarget() throws Exception {
        BlockCache c = cache(64 << 20, a, b);
        for (int i = 0; i < 10; i++) {
            stage(c, random(1000, 100 + i));
        }
        c.uploaded(0, c.pending(0, 3));
        List<byte[]> all = c.pending(0, 100);
        assertEquals(7, all.size(), "three of ten went to target a");
        java.util.List<byte[]> walked = new java.util.ArrayList<>();
        byte[] after = null;
        for (List<byte[]> batch = c.pending(0, 2, after); !batch.isEmpty(); batch = c.pending(0, 2, after)) {
            walked.addAll(batch);
            after = batch.get(batch.size() - 1);
        }
        assertEquals(all.size(), walked.size());
        for (int i = 0; i < all.size(); i++) {
            assertArrayEquals(all.get(i), walked.get(i), "batch by batch, in the order of a full scan");
        }
        assertTrue(c.pending(0, 5, all.get(all.size() - 1)).isEmpty(), "nothing after the last hash");
        assertEquals(10, c.pending(1, 100).size(), "target b's blocks are its own");
        assertTrue(c.pending(1, 100, new byte[] {(byte) 0xff, (byte) 0xff}).isEmpty(), "target b past every hash");
    }

    @Test
    void aDirtyBlockStaysPinnedUntilEveryTargetHasIt() throws Exception {
        BlockCache c = cache(1 << 20, a, b);
        stage(c, random(600_000, 1));
        stage(c, random(600_000, 2));
        long both = 2 * c.footprint(600_000);
        assertEquals(both, c.dirtyBytes());
        assertEquals(both, c.cachedBytes(), "over capacity, but nothing clean may go");
        upload(c, 0, a);
        assertEquals(both, c.dirtyBytes(), "target b still lacks both blocks");
        assertEquals(2, c.pendingCount(1));
        upload(c, 1, b);
        assertEquals(0, c.dirtyBytes());
        assertTrue(c.cachedBytes() <= 1 << 20, "clean blocks are evicted down to the capacity");
    }

    @Test
    void anEvictedBlockIsFetchedAgainAndVerified() throws Exception {
        BlockCache c = cache(700_000, a);
        byte[] first = random(600_000, 3);
        BlockRef r1 = stage(c, first);
        upload(c, 0, a);
        stage(c, random(600_000, 4));
        upload(c, 0, a);
        assertArrayEquals(first, c.get(r1));
    }

    @Test
    void aCorruptCopyIsSkippedAndRepairedFromAGoodOne() throws Exception {
        BlockCache c = cache(100_000, a, b);
        byte[] data = random(90_000, 5);
        BlockRef r = stage(c, data);
        upload(c, 0, a);
        upload(c, 1, b);
        stage(c, random(90_000, 6));
        upload(c, 0, a);
        upload(c, 1, b);
        String key = ObjectKeys.block(r.hex());
        byte[] bad = data.clone();
        bad[10] ^= 1;
        a.corrupt(key, bad);
        assertArrayEquals(data, c.get(r));
        assertArrayEquals(data, a.get(key), "the corrupt copy was replaced");
    }

    @Test
    void everyCopyCorruptGivesBlockUnavailableNeverWrongBytes() throws Exception {
        BlockCache c = cache(100_000, a);
        byte[] data = random(90_000, 7);
        BlockRef r = stage(c, data);
        upload(c, 0, a);
        stage(c, random(90_000, 8));
        upload(c, 0, a);
        byte[] bad = data.clone();
        bad[0] ^= 1;
        a.corrupt(ObjectKeys.block(r.hex()), bad);
        BlockUnavailableException e = assertThrows(BlockUnavailableException.class, () -> c.get(r));
        assertTrue(e.getMessage().contains(r.hex()));
    }

    @Test
    void aBlockLargerThanTheDirtyLimitCanNeverFit() {
        BlockCache c = cache(1000, a);
        assertThrows(DirtyLimitException.class, () -> c.reserveDirty(5000));
    }

    /** Two writers that each fit alone but not together: the second waits until the first gives room back. */
    @Test
    void reservationsOfConcurrentWritersNeverOvershootTheDirtyLimit() throws Exception {
        BlockCache c = cache(10_000, a);
        c.reserveDirty(5000);
        java.util.concurrent.atomic.AtomicBoolean second = new java.util.concurrent.atomic.AtomicBoolean();
        Thread t = new Thread(() -> {
            try {
                c.reserveDirty(5000);
                second.set(true);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (t.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(System.nanoTime() < deadline, "the second reservation never waited: " + t.getState());
            Thread.onSpinWait();
        }
        assertFalse(second.get(), "9,000 bytes of limit cannot hold two reservations of 5,000");
        c.releaseDirty(5000);
        t.join(10_000);
        assertTrue(second.get(), "the released room went to the waiting writer");
        c.releaseDirty(5000);
    }

    @Test
    void identicalBlocksAreStoredOnce() {
        BlockCache c = cache(1 << 20, a);
        byte[] data = random(1000, 9);
        stage(c, data);
        stage(c, data.clone());
        assertEquals(c.footprint(1000), c.dirtyBytes());
        assertEquals(1, c.pendingCount(0));
    }

    @Test
    void accountingSurvivesReopening() {
        BlockCache c = cache(1 << 20, a);
        stage(c, random(1000, 10));
        c.close();
        kv.close();
        kv = new LmdbKv(dir, 256L << 20);
        BlockCache again = closer.add(new BlockCache(kv, List.of(a), 1 << 20, 0));
        assertEquals(again.footprint(1000), again.dirtyBytes());
        assertEquals(1, again.pendingCount(0));
    }
}
