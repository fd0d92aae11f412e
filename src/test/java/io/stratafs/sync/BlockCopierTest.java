package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MeasuredStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BlockCopierTest {
    final ExecutorService pool = Executors.newFixedThreadPool(8);
    final Random random = new Random(8);

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "copy threads ended");
    }

    /** A store whose requests are counted by kind ({@code put}, {@code get}, {@code exists}, {@code list}). */
    record Counted(MeasuredStore store, MemoryStore memory, VolumeMetrics metrics) {
        static Counted inMemory() {
            MemoryStore memory = new MemoryStore();
            VolumeMetrics metrics = new VolumeMetrics();
            return new Counted(new MeasuredStore(memory, metrics), memory, metrics);
        }

        long requests(String op) {
            return metrics.storeRequest(op, memory.describe()).count();
        }
    }

    byte[] bytes(int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    static BlockRef ref(byte[] data) {
        return new BlockRef(Sha256.of(data), data.length);
    }

    static BlockRef putBlock(ObjectStore store, byte[] data) throws StoreException {
        BlockRef ref = ref(data);
        store.put(ObjectKeys.block(ref.hex()), data);
        return ref;
    }

    BlockCopier.Builder copier(ObjectStore... targets) {
        return BlockCopier.builder().targets(List.of(targets)).executor(pool);
    }

    static Map<BlockCopier.Result, List<BlockRef>> byResult(List<BlockCopier.Outcome> outcomes) {
        Map<BlockCopier.Result, List<BlockRef>> m = new HashMap<>();
        for (BlockCopier.Outcome o : outcomes) {
            m.computeIfAbsent(o.result(), k -> new ArrayList<>()).add(o.block());
        }
        return m;
    }

    static void assertHolds(ObjectStore store, BlockRef ref) throws StoreException {
        assertArrayEquals(ref.hash(), Sha256.of(store.get(ObjectKeys.block(ref.hex()))), "good copy of " + ref.hex());
    }

    @Test
    void onlyMissingBlocksAreCopiedAndPresenceCostsOneCheckPerBlock() throws Exception {
        Counted target = Counted.inMemory();
        Counted source = Counted.inMemory();
        List<BlockRef> wanted = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] data = bytes(1000 + i);
            wanted.add(putBlock(source.memory(), data));
            if (i < 3) {
                putBlock(target.memory(), data);
            }
        }
        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        BlockCopier.Summary s = copier(target.store()).build().copy(wanted, List.of(source.store()), outcomes::add);

        assertEquals(new BlockCopier.Summary(2, 3, 0, 0, 1003 + 1004), s);
        assertEquals(Set.copyOf(wanted.subList(3, 5)), Set.copyOf(byResult(outcomes).get(BlockCopier.Result.COPIED)));
        assertEquals(2, target.requests("put"), "only the two missing blocks were written");
        assertEquals(2, source.requests("get"), "only the two missing blocks were read");
        assertEquals(5, target.requests("exists"), "one existence check per wanted block");
        assertEquals(0, target.requests("list"), "a few blocks are not worth a listing");
        for (BlockRef r : wanted) {
            assertHolds(target.memory(), r);
        }
    }

    @Test
    void aFanOutDirectoryWithManyWantedBlocksIsListedOnceInsteadOfCheckedPerBlock() throws Exception {
        Counted target = Counted.inMemory();
        MemoryStore source = new MemoryStore();
        List<BlockRef> wanted = new ArrayList<>();
        while (wanted.size() < BlockCopier.LIST_AT_LEAST + 4) {
            byte[] data = bytes(64);
            if (ref(data).hex().startsWith("00")) {
                wanted.add(putBlock(source, data));
                if (wanted.size() % 2 == 0) {
                    putBlock(target.memory(), data);
                }
            }
        }
        BlockCopier.Summary s = copier(target.store()).build().copy(wanted, List.of(source), o -> { });

        assertEquals(wanted.size() / 2, s.copied());
        assertEquals(wanted.size() / 2, s.present());
        assertEquals(1, target.requests("list"), "one listing of blocks/00/");
        assertEquals(0, target.requests("exists"));
        assertEquals(wanted.size() / 2, target.requests("put"));
    }

    @Test
    void aCorruptCopyIsSkippedForTheNextSource() throws Exception {
        MemoryStore target = new MemoryStore();
        MemoryStore first = new MemoryStore();
        MemoryStore second = new MemoryStore();
        byte[] data = bytes(4096);
        BlockRef r = putBlock(first, data);
        putBlock(second, data);
        byte[] bad = data.clone();
        bad[100] ^= 1;
        first.corrupt(ObjectKeys.block(r.hex()), bad);

        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        copier(target).build().copy(List.of(r), List.of(first, describedAs(second, "memory:second")), outcomes::add);

        assertEquals(List.of(new BlockCopier.Outcome(r, BlockCopier.Result.COPIED, "memory:second")), outcomes);
        assertHolds(target, r);
    }

    @Test
    void aBlockComesFromTheSecondSourceOrFromATrashAndTheTrashIsLeftAlone() throws Exception {
        MemoryStore target = new MemoryStore();
        MemoryStore first = new MemoryStore();
        MemoryStore second = new MemoryStore();
        BlockRef onlyInSecond = putBlock(second, bytes(300));
        byte[] trashed = bytes(500);
        BlockRef inFirstsTrash = ref(trashed);
        first.put(ObjectKeys.trashedBlock(inFirstsTrash.hex()), trashed);

        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        copier(target).build().copy(List.of(onlyInSecond, inFirstsTrash),
                List.of(describedAs(first, "memory:first"), describedAs(second, "memory:second")), outcomes::add);

        Map<BlockRef, String> from = new HashMap<>();
        for (BlockCopier.Outcome o : outcomes) {
            assertEquals(BlockCopier.Result.COPIED, o.result(), o.detail());
            from.put(o.block(), o.detail());
        }
        assertEquals("memory:second", from.get(onlyInSecond));
        assertEquals("memory:first (trash)", from.get(inFirstsTrash));
        assertHolds(target, onlyInSecond);
        assertHolds(target, inFirstsTrash);
        assertFalse(first.exists(ObjectKeys.block(inFirstsTrash.hex())), "a peer's storage is only read, never restored");
    }

    @Test
    void aBlockNoStoreHasYetIsWaitingAndTheOthersAreStillCopied() throws Exception {
        MemoryStore target = new MemoryStore();
        MemoryStore source = new MemoryStore();
        BlockRef there = putBlock(source, bytes(100));
        byte[] later = bytes(100);
        BlockRef notYet = ref(later);
        BlockCopier copier = copier(target).build();

        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        BlockCopier.Summary s = copier.copy(List.of(notYet, there), List.of(source), outcomes::add);

        assertEquals(new BlockCopier.Summary(1, 0, 1, 0, 100), s);
        assertEquals(List.of(notYet), byResult(outcomes).get(BlockCopier.Result.WAITING));
        assertEquals(new BlockCopier.Progress(1, 100, 0, 1, 0, null), copier.progress());

        putBlock(source, later);
        assertEquals(new BlockCopier.Summary(1, 1, 0, 0, 100), copier.copy(List.of(notYet, there), List.of(source), o -> { }));
        assertHolds(target, notYet);
        assertEquals(new BlockCopier.Progress(2, 200, 1, 0, 0, null), copier.progress());
    }

    @Test
    void everyCopyCorruptOrATargetRefusingThePutIsAFailureWithASentence() throws Exception {
        MemoryStore source = new MemoryStore();
        byte[] data = bytes(200);
        BlockRef r = putBlock(source, data);
        source.corrupt(ObjectKeys.block(r.hex()), new byte[10]);
        BlockCopier copier = copier(new MemoryStore()).build();

        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        copier.copy(List.of(r), List.of(source), outcomes::add);
        assertEquals(BlockCopier.Result.FAILED, outcomes.get(0).result());
        assertTrue(outcomes.get(0).detail().contains("is corrupt (10 bytes, not 200)"), outcomes.get(0).detail());
        assertEquals(outcomes.get(0).detail(), copier.progress().lastError());

        source.put(ObjectKeys.block(r.hex()), data);
        ObjectStore full = new ForwardingStore(new MemoryStore()) {
            @Override
            public void put(String key, byte[] bytes) throws StoreException {
                throw new StoreUnavailableException("no space left on device", null);
            }
        };
        outcomes.clear();
        copier(full).build().copy(List.of(r), List.of(source), outcomes::add);
        assertEquals(BlockCopier.Result.FAILED, outcomes.get(0).result());
        assertEquals("cannot put block " + r.hex() + " into memory:: no space left on device", outcomes.get(0).detail());
    }

    @Test
    void aSecondOwnTargetIsFilledFromTheFirstWithoutReadingAnyPeer() throws Exception {
        MemoryStore holder = new MemoryStore();
        MemoryStore lacking = new MemoryStore();
        Counted peer = Counted.inMemory();
        byte[] data = bytes(700);
        BlockRef r = putBlock(holder, data);
        putBlock(peer.memory(), data);

        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        copier(describedAs(holder, "memory:own-1"), lacking).build().copy(List.of(r), List.of(peer.store()), outcomes::add);

        assertEquals(List.of(new BlockCopier.Outcome(r, BlockCopier.Result.COPIED, "memory:own-1")), outcomes);
        assertHolds(lacking, r);
        assertEquals(0, peer.requests("get"));
    }

    @Test
    void anInterruptedRunIsResumedByCopyingOnlyWhatIsStillMissing() throws Exception {
        Counted target = Counted.inMemory();
        MemoryStore source = new MemoryStore();
        Set<BlockRef> wanted = new LinkedHashSet<>();
        for (int i = 0; i < 12; i++) {
            wanted.add(putBlock(source, bytes(256)));
        }
        BlockCopier copier = copier(target.store()).parallelism(2).build();
        AtomicInteger reported = new AtomicInteger();
        // the caller's durable wanted set: a block leaves it when its outcome says it is in storage
        Set<BlockRef> stillWanted = Collections.synchronizedSet(new LinkedHashSet<>(wanted));
        assertThrows(InterruptedException.class, () -> copier.copy(wanted, List.of(source), o -> {
            stillWanted.remove(o.block());
            if (reported.incrementAndGet() == 5) {
                Thread.currentThread().interrupt();
            }
        }));
        assertFalse(Thread.currentThread().isInterrupted(), "the interruption was consumed by the exception");
        long putsBefore = target.requests("put");
        assertTrue(putsBefore >= 5 && putsBefore < 12, "the first run stopped part way: " + putsBefore);
        assertEquals(putsBefore, reported.get(), "every block that was put was also reported");

        BlockCopier.Summary second = copier.copy(stillWanted, List.of(source), o -> stillWanted.remove(o.block()));

        assertEquals(12 - putsBefore, second.copied());
        assertEquals(12, target.requests("put"), "no block was written twice");
        assertTrue(stillWanted.isEmpty());
        for (BlockRef r : wanted) {
            assertHolds(target.memory(), r);
        }
    }

    @Test
    void theBandwidthLimitPacesAllCopyThreadsTogether() throws Exception {
        long rate = 1 << 20;
        List<Long> sleeps = Collections.synchronizedList(new ArrayList<>());
        // the fake clock stands still: every wait is a reservation against the one bucket, so the
        // waits handed out do not depend on how the threads interleave
        BandwidthLimit limit = BandwidthLimit.of(rate, () -> 0L, sleeps::add);
        MemoryStore source = new MemoryStore();
        List<BlockRef> wanted = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            wanted.add(putBlock(source, bytes((int) rate / 2)));
        }
        BlockCopier.Summary s = copier(new MemoryStore()).parallelism(4).bandwidth(limit).build().copy(wanted, List.of(source), o -> { });

        assertEquals(8, s.copied());
        List<Long> sorted = new ArrayList<>(sleeps);
        Collections.sort(sorted);
        // a bucket of one second of the rate pays for the first two half-second blocks; each later one
        // waits half a second more than the one before: 4 MiB at 1 MiB/s end 3 s after the start
        long half = 500_000_000L;
        assertEquals(List.of(half, 2 * half, 3 * half, 4 * half, 5 * half, 6 * half), sorted);
    }

    @Test
    void atMostParallelismCopiesRunAtOnce() throws Exception {
        int parallelism = 3;
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        MemoryStore memory = new MemoryStore();
        ObjectStore slowSource = new ForwardingStore(memory) {
            @Override
            public byte[] get(String key) throws StoreException {
                most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                try {
                    if (!release.await(30, TimeUnit.SECONDS)) {
                        throw new StoreUnavailableException("the test never released the copies", null);
                    }
                    return super.get(key);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new StoreUnavailableException("interrupted", e);
                } finally {
                    inFlight.decrementAndGet();
                }
            }
        };
        List<BlockRef> wanted = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            wanted.add(putBlock(memory, bytes(128)));
        }
        BlockCopier copier = copier(new MemoryStore()).parallelism(parallelism).build();
        ExecutorService caller = Executors.newSingleThreadExecutor();
        try {
            Future<BlockCopier.Summary> run = caller.submit(() -> copier.copy(wanted, List.of(slowSource), o -> { }));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // wait on the recorded maximum, not on inFlight: a copy counts itself in inFlight before it records the maximum
            while (most.get() < parallelism) {
                assertTrue(System.nanoTime() < deadline, "the copies never reached " + parallelism + " at once");
                Thread.onSpinWait();
            }
            assertEquals(parallelism, most.get(), "the pool has 8 threads, but no fourth copy started");
            release.countDown();
            assertEquals(10, run.get(30, TimeUnit.SECONDS).copied());
            assertEquals(parallelism, most.get());
        } finally {
            release.countDown();
            caller.shutdownNow();
        }
    }

    @Test
    void anUnreachableTargetFailsItsBlocksWithoutStoppingTheRun() throws Exception {
        ObjectStore down = new ForwardingStore(new MemoryStore()) {
            @Override
            public boolean exists(String key) throws StoreException {
                throw new StoreUnavailableException("connection refused", null);
            }
        };
        MemoryStore source = new MemoryStore();
        BlockRef r = putBlock(source, bytes(10));
        List<BlockCopier.Outcome> outcomes = new ArrayList<>();
        BlockCopier.Summary s = copier(down).build().copy(List.of(r), List.of(source), outcomes::add);
        assertEquals(1, s.failed());
        assertEquals("cannot tell which blocks memory: holds: connection refused", outcomes.get(0).detail());
    }

    @Test
    void aBadConfigurationIsRejectedWithASentence() {
        assertEquals("the block copier needs at least one own target to copy into",
                assertThrows(IllegalArgumentException.class, () -> BlockCopier.builder().executor(pool).build()).getMessage());
        assertEquals("the block copier needs an executor to run its copies on",
                assertThrows(IllegalArgumentException.class, () -> BlockCopier.builder().targets(List.of(new MemoryStore())).build()).getMessage());
        assertEquals("the block copier's parallelism must be at least 1, not 0",
                assertThrows(IllegalArgumentException.class, () -> copier(new MemoryStore()).parallelism(0).build()).getMessage());
        assertNull(copier(new MemoryStore()).build().progress().lastError());
    }

    private static ObjectStore describedAs(ObjectStore store, String name) {
        return new ForwardingStore(store) {
            @Override
            public String describe() {
                return name;
            }
        };
    }
}
