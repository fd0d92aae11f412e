package io.stratafs.writeback;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteBackTest {
    static final int BLOCK = 64 << 10;
    static final int O_RDWR = 2;

    @TempDir
    Path dir;

    /** A mounted volume without FUSE: LMDB, cache, VFS and write-back over the given targets. */
    private record Site(LmdbKv kv, BlockCache cache, Vfs vfs, WriteBack writeBack) implements AutoCloseable {
        static Site open(Path cacheDir, List<ObjectStore> targets) {
            return open(cacheDir, targets, BLOCK);
        }

        static Site open(Path cacheDir, List<ObjectStore> targets, int blockSize) {
            LmdbKv kv = new LmdbKv(cacheDir, 256L << 20);
            BlockCache cache = new BlockCache(kv, targets, 64L << 20, 0);
            Vfs vfs = new Vfs(kv, cache, blockSize, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
            return new Site(kv, cache, vfs, new WriteBack(kv, cache, "main", 4, cacheDir));
        }

        @Override
        public void close() {
            writeBack.close();
            vfs.close();
            cache.close();
            kv.close();
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    private static void write(Vfs vfs, String path, byte[] data) throws Exception {
        long fh = vfs.create(path, 0644, O_RDWR, Caller.ROOT);
        vfs.write(fh, 0, data, data.length);
        vfs.release(fh);
    }

    private static byte[] read(Vfs vfs, String path) throws Exception {
        long fh = vfs.open(path, 0);
        byte[] out = new byte[(int) vfs.getattr(path).size()];
        vfs.read(fh, 0, out, out.length);
        vfs.release(fh);
        return out;
    }

    @Test
    void aNewCacheRebuildsTheTreeAndDataFromEachTarget() throws Exception {
        MemoryStore a = new MemoryStore();
        MemoryStore b = new MemoryStore();
        try (Site site = Site.open(dir.resolve("c1"), List.of(a, b))) {
            site.vfs().initRoot(Caller.ROOT);
            site.vfs().mkdir("/docs", 0755, Caller.ROOT);
            write(site.vfs(), "/docs/one", random(3 * BLOCK + 17, 1));
            write(site.vfs(), "/two", random(100, 2));
            site.vfs().rename("/two", "/docs/two");
            site.vfs().setxattr("/docs/one", "user.k", new byte[] {9}, 0, Caller.ROOT);
            site.writeBack().start();
            assertTrue(site.writeBack().flushAll(60_000));
            assertEquals(0, site.cache().dirtyBytes());
        }
        for (MemoryStore target : List.of(a, b)) {
            Path fresh = dir.resolve("fresh-" + System.identityHashCode(target));
            try (Site site = Site.open(fresh, List.of(target))) {
                Recovery.restore(site.kv(), target, "main");
                assertArrayEquals(random(3 * BLOCK + 17, 1), read(site.vfs(), "/docs/one"));
                assertArrayEquals(random(100, 2), read(site.vfs(), "/docs/two"));
                assertArrayEquals(new byte[] {9}, site.vfs().getxattr("/docs/one", "user.k"));
            }
        }
    }

    @Test
    void recoveryReplaysSegmentsWrittenAfterTheCheckpoint() throws Exception {
        MemoryStore a = new MemoryStore();
        try (Site site = Site.open(dir.resolve("c1"), List.of(a))) {
            site.vfs().initRoot(Caller.ROOT);
            write(site.vfs(), "/early", random(10, 3));
            site.writeBack().start();
            assertTrue(site.writeBack().flushAll(60_000));
            write(site.vfs(), "/late", random(20, 4));
            site.vfs().unlink("/early");
            site.writeBack().wake();
            long deadline = System.currentTimeMillis() + 60_000;
            while (site.writeBack().status(site.cache()).get(0).pendingJournalEntries() > 0) {
                assertTrue(System.currentTimeMillis() < deadline, "uploads did not finish");
                Thread.onSpinWait();
            }
        }
        try (Site site = Site.open(dir.resolve("c2"), List.of(a))) {
            Recovery.restore(site.kv(), a, "main");
            assertArrayEquals(random(20, 4), read(site.vfs(), "/late"));
            assertEquals(1, site.vfs().readdir("/").size());
        }
    }

    @Test
    void everyUploadedJournalRecordNamesOnlyBlocksAlreadyInTheTarget() throws Exception {
        MemoryStore inner = new MemoryStore();
        List<String> violations = new CopyOnWriteArrayList<>();
        AtomicInteger checked = new AtomicInteger();
        ObjectStore target = checkingEachJournalWrite(inner, (key, data) -> {
            for (SegmentCodec.Entry e : SegmentCodec.decodeSegment(data, key)) {
                for (Mutation m : JournalCodec.decode(e.record())) {
                    if (m.table() == Table.BLOCKMAP && !m.isDelete()) {
                        String hex = Bytes.hex(BlockRef.decode(m.value()).hash());
                        if (!inner.exists(ObjectKeys.block(hex))) {
                            violations.add("segment " + key + " was written before block " + hex);
                        }
                        checked.incrementAndGet();
                    }
                }
            }
        });
        try (Site site = Site.open(dir.resolve("c1"), List.of(target))) {
            site.vfs().initRoot(Caller.ROOT);
            site.writeBack().start();
            for (int i = 0; i < 30; i++) {
                write(site.vfs(), "/f" + i, random(BLOCK / 2 + i * 1000, i));
                site.writeBack().wake();
            }
            assertTrue(site.writeBack().flushAll(60_000));
        }
        assertEquals(List.of(), violations);
        assertEquals(30, checked.get(), "every file's block should have been named by a segment that was checked");
    }

    /**
     * To a store that makes a group durable at once (a local directory), small blocks go up in
     * groups through putAll, large ones one by one through put; every block arrives and a new cache
     * restores every file from the target.
     */
    @Test
    void smallBlocksGoUpInGroupsAndLargeOnesOneByOne() throws Exception {
        int bigBlock = TargetUploader.GROUP_BLOCK_MAX_BYTES * 2;
        List<Integer> groups = new CopyOnWriteArrayList<>();
        List<Integer> groupedSizes = new CopyOnWriteArrayList<>();
        List<Integer> blocksPutAlone = new CopyOnWriteArrayList<>();
        MemoryStore inner = new MemoryStore();
        ObjectStore grouping = new io.stratafs.store.ForwardingStore(inner) {
            @Override
            public boolean putsInGroups() {
                return true;
            }

            @Override
            public void putAll(List<String> keys, List<byte[]> data) throws io.stratafs.store.StoreException {
                groups.add(keys.size());
                data.forEach(d -> groupedSizes.add(d.length));
                super.putAll(keys, data);
            }

            @Override
            public void put(String key, byte[] data) throws io.stratafs.store.StoreException {
                if (key.startsWith(ObjectKeys.BLOCKS_PREFIX)) {
                    blocksPutAlone.add(data.length);
                }
                super.put(key, data);
            }
        };
        try (Site site = Site.open(dir.resolve("c1"), List.of(grouping), bigBlock)) {
            site.vfs().initRoot(Caller.ROOT);
            for (int i = 0; i < 40; i++) {
                write(site.vfs(), "/small" + i, random(100 + i, i));
            }
            write(site.vfs(), "/big", random(2 * bigBlock, 99));
            site.writeBack().start();
            assertTrue(site.writeBack().flushAll(60_000));
        }
        assertTrue(groups.stream().anyMatch(n -> n > 1), "no group of more than one block was put: " + groups);
        assertTrue(groupedSizes.stream().allMatch(n -> n <= TargetUploader.GROUP_BLOCK_MAX_BYTES),
                "a large block went up in a group: " + groupedSizes);
        assertEquals(2, blocksPutAlone.stream().filter(n -> n == bigBlock).count(), "large blocks put alone: " + blocksPutAlone);
        assertEquals(42, inner.list(ObjectKeys.BLOCKS_PREFIX).size());
        try (Site site = Site.open(dir.resolve("fresh"), List.of(inner), bigBlock)) {
            Recovery.restore(site.kv(), inner, "main");
            for (int i = 0; i < 40; i++) {
                assertArrayEquals(random(100 + i, i), read(site.vfs(), "/small" + i));
            }
            assertArrayEquals(random(2 * bigBlock, 99), read(site.vfs(), "/big"));
        }
    }

    /**
     * The store, with {@code check} run on every journal segment at the moment it is written (before
     * it reaches the store): looking only after a flush would miss a segment uploaded before its
     * blocks. A proxy rather than a subclass, so a segment is seen whichever write method carries it.
     */
    private static ObjectStore checkingEachJournalWrite(ObjectStore inner, BiConsumer<String, byte[]> check) {
        String journal = ObjectKeys.journalPrefix("main");
        return (ObjectStore) Proxy.newProxyInstance(ObjectStore.class.getClassLoader(), new Class<?>[] {ObjectStore.class},
                (proxy, method, args) -> {
                    if (args != null && args.length == 2 && args[0] instanceof String key && key.startsWith(journal)
                            && args[1] instanceof byte[] data) {
                        check.accept(key, data);
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
