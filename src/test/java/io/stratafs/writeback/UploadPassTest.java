package io.stratafs.writeback;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An upload pass against the local journal: one pass per target at a time, and nothing published before it is durable. */
class UploadPassTest {
    @TempDir
    Path dir;
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final Closer open = new Closer();

    @AfterEach
    void close() throws Exception {
        pool.shutdownNow();
        open.close();
    }

    private static void journal(Kv kv, int from, int to) {
        for (int i = from; i <= to; i++) {
            byte[] key = ("c" + i).getBytes(StandardCharsets.UTF_8);
            kv.writeVoid(txn -> txn.put(Table.COUNTER, key, Bytes.longKey(7)));
        }
    }

    /** A store whose first journal segment write waits until the test opens the gate. */
    private static final class GatedStore extends ForwardingStore {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch gate = new CountDownLatch(1);
        private boolean first = true;

        GatedStore() {
            super(new MemoryStore());
        }

        private void stall(String key) {
            boolean wait;
            synchronized (this) {
                wait = first && key.startsWith("journal/");
                first &= !wait;
            }
            if (wait) {
                reached.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void put(String key, byte[] data) throws StoreException {
            stall(key);
            super.put(key, data);
        }

        @Override
        public void create(String key, byte[] data) throws StoreException {
            stall(key);
            super.create(key, data);
        }
    }

    /** Whether a thread has ended or is parked on a lock (not on an upload's future). */
    private static boolean finishedOrWaitingForLock(Thread t) {
        return !t.isAlive() || LockSupport.getBlocker(t) instanceof AbstractQueuedSynchronizer;
    }

    @Test
    void aSecondPassWhileOneIsRunningNeverMovesTheUploadPositionBack() throws Exception {
        LmdbKv kv = new LmdbKv(dir.resolve("c"), 64L << 20);
        open.add(kv);
        GatedStore target = new GatedStore();
        BlockCache cache = open.add(new BlockCache(kv, List.of(target), 1 << 20, 0));
        TargetUploader uploader = new TargetUploader(0, target, kv, cache, "main", pool, dir);
        journal(kv, 1, 3);
        Throwable[] failures = new Throwable[2];
        // the background loop's pass stalls in the middle of publishing records 1..3
        Thread slow = new Thread(() -> {
            try {
                uploader.pass(false);
            } catch (Throwable e) {
                failures[0] = e;
            }
        });
        slow.start();
        assertTrue(target.reached.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first pass never published: " + failures[0]);
        journal(kv, 4, 6);
        // umount's pass on the control thread, followed by the trim the loop does after every pass
        Thread fast = new Thread(() -> {
            try {
                uploader.pass(false);
            } catch (Throwable e) {
                failures[1] = e;
            }
        });
        fast.start();
        while (!finishedOrWaitingForLock(fast)) {
            Thread.onSpinWait();
        }
        WriteBack.trimJournal(kv, List.of(uploader.uploadedKey()));
        target.gate.countDown();
        slow.join();
        fast.join();
        WriteBack.trimJournal(kv, List.of(uploader.uploadedKey()));
        assertEquals(null, failures[0]);
        assertEquals(null, failures[1]);
        assertEquals(6, uploader.uploadedSeq(), "the upload position moved back");
        journal(kv, 7, 7);
        uploader.pass(false);
        assertEquals(7, uploader.uploadedSeq());
        LmdbKv fresh = new LmdbKv(dir.resolve("fresh"), 64L << 20);
        open.add(fresh);
        assertEquals(7, Recovery.restore(fresh, target, "main"));
    }

    /** A Kv that remembers up to which journal record it was last forced to disk. */
    private static final class SyncTrackingKv implements Kv {
        final Kv inner;
        volatile long syncedUpTo;
        int syncs;

        SyncTrackingKv(Kv inner) {
            this.inner = inner;
        }

        @Override
        public <T> T read(Function<KvTxn, T> body) {
            return inner.read(body);
        }

        @Override
        public <T> T write(Function<KvWriteTxn, T> body) {
            return inner.write(body);
        }

        @Override
        public void restore(List<Mutation> mutations, long lastSeq) {
            inner.restore(mutations, lastSeq);
        }

        @Override
        public long lastJournalSeq() {
            return inner.lastJournalSeq();
        }

        @Override
        public synchronized void sync() {
            long upTo = inner.lastJournalSeq();
            inner.sync();
            syncedUpTo = upTo;
            syncs++;
        }

        @Override
        public long usedBytes() {
            return inner.usedBytes();
        }

        @Override
        public long mapBytes() {
            return inner.mapBytes();
        }

        @Override
        public long liveBytes() {
            return inner.liveBytes();
        }

        @Override
        public int pageSize() {
            return inner.pageSize();
        }

        @Override
        public void onFull(java.util.function.BooleanSupplier freeRoom) {
            inner.onFull(freeRoom);
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Test
    void journalRecordsAndCheckpointsArePublishedOnlyOnceTheyAreDurableLocally() throws Exception {
        SyncTrackingKv kv = new SyncTrackingKv(new LmdbKv(dir.resolve("c"), 64L << 20));
        open.add(kv);
        List<String> early = new ArrayList<>();
        List<String> published = new ArrayList<>();
        ForwardingStore target = new ForwardingStore(new MemoryStore()) {
            @Override
            public void create(String key, byte[] data) throws StoreException {
                put(key, data);
            }

            @Override
            public void putFile(String key, Path file) throws StoreException {
                try {
                    put(key, java.nio.file.Files.readAllBytes(file));
                } catch (java.io.IOException e) {
                    throw new StoreException(e.getMessage(), e);
                }
            }

            @Override
            public void put(String key, byte[] data) throws StoreException {
                long seq = key.startsWith("journal/") ? ObjectKeys.segmentLast(key)
                        : key.startsWith("checkpoint/") ? ObjectKeys.checkpointSeq(key) : 0;
                if (seq > kv.syncedUpTo) {
                    early.add(key);
                }
                if (seq > 0) {
                    published.add(key);
                }
                super.put(key, data);
            }
        };
        BlockCache cache = open.add(new BlockCache(kv, List.of(target), 1 << 20, 0));
        TargetUploader uploader = new TargetUploader(0, target, kv, cache, "main", pool, dir);
        for (int round = 0; round < 3; round++) {
            journal(kv, round * 10 + 1, round * 10 + 10);
            uploader.pass(round == 2);
        }
        assertEquals(4, published.size(), "three segments and a checkpoint: " + published);
        assertEquals(List.of(), early, "published before LMDB had them on disk");
        assertTrue(kv.syncs <= 3, "one sync per pass is enough, got " + kv.syncs);
    }

    @Test
    void aSegmentAnotherWriterPutThereFirstIsNeverOverwrittenAndStopsTheTarget() throws Exception {
        LmdbKv kv = new LmdbKv(dir.resolve("c"), 64L << 20);
        open.add(kv);
        MemoryStore target = new MemoryStore();
        String theirs = ObjectKeys.journalSegment("main", 1, 3);
        byte[] foreign = SegmentCodec.encodeSegment(List.of(new SegmentCodec.Entry(1, new byte[] {1}),
                new SegmentCodec.Entry(2, new byte[] {2}), new SegmentCodec.Entry(3, new byte[] {3})));
        target.put(theirs, foreign);
        BlockCache cache = open.add(new BlockCache(kv, List.of(target), 1 << 20, 0));
        TargetUploader uploader = new TargetUploader(0, target, kv, cache, "main", pool, dir);
        journal(kv, 1, 3);
        StoreException e = org.junit.jupiter.api.Assertions.assertThrows(StoreException.class, () -> uploader.pass(true));
        assertTrue(e.getMessage().contains(theirs) && e.getMessage().contains("another writer"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertArrayEquals(foreign, target.get(theirs));
        assertEquals(0, uploader.uploadedSeq());
        assertTrue(uploader.stopped() != null, "the target should be stopped, not retried");
        org.junit.jupiter.api.Assertions.assertThrows(StoreException.class, () -> uploader.pass(true));
        assertEquals(List.of(theirs), target.list("journal/"));
        assertEquals(List.of(), target.list("checkpoint/"));
    }

    @Test
    void aSegmentAlreadyThereWithTheSameBytesIsARetryNotAConflict() throws Exception {
        LmdbKv kv = new LmdbKv(dir.resolve("c"), 64L << 20);
        open.add(kv);
        MemoryStore target = new MemoryStore();
        BlockCache cache = open.add(new BlockCache(kv, List.of(target), 1 << 20, 0));
        TargetUploader uploader = new TargetUploader(0, target, kv, cache, "main", pool, dir);
        journal(kv, 1, 3);
        uploader.pass(false);
        String key = ObjectKeys.journalSegment("main", 1, 3);
        byte[] segment = target.get(key);
        // as if the reply to the first upload was lost: the position stayed behind, the object is there
        kv.writeVoid(txn -> txn.delete(Table.LOCAL, "uploaded.0".getBytes(StandardCharsets.UTF_8)));
        uploader.pass(false);
        assertEquals(3, uploader.uploadedSeq());
        org.junit.jupiter.api.Assertions.assertArrayEquals(segment, target.get(key));
    }

    @Test
    void twoCheckpointsOfOnePositionDifferingOnlyInTheirTimeAreTheSame() {
        List<Mutation> state = List.of(new Mutation(Table.COUNTER, new byte[] {1}, new byte[] {2}));
        List<Mutation> other = List.of(new Mutation(Table.COUNTER, new byte[] {1}, new byte[] {3}));
        String key = ObjectKeys.checkpoint("main", 9);
        byte[] first = checkpoint(9, io.stratafs.meta.JournalCodec.encode(1_000, state));
        assertTrue(TargetUploader.sameContent(key, first, checkpoint(9, io.stratafs.meta.JournalCodec.encode(2_000, state))));
        assertTrue(!TargetUploader.sameContent(key, first, checkpoint(9, io.stratafs.meta.JournalCodec.encode(1_000, other))));
        String segment = ObjectKeys.journalSegment("main", 1, 1);
        assertTrue(!TargetUploader.sameContent(segment, new byte[] {1}, new byte[] {2}));
    }

    private static byte[] checkpoint(long seq, byte[] record) {
        return java.nio.ByteBuffer.allocate(SegmentCodec.CHECKPOINT_MAGIC.length + 8 + record.length)
                .put(SegmentCodec.CHECKPOINT_MAGIC).putLong(seq).put(record).array();
    }
}
