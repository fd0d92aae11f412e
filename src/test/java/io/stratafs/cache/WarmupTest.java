package io.stratafs.cache;

import io.stratafs.testing.Closer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.LmdbKv;
import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import io.stratafs.writeback.Recovery;
import io.stratafs.writeback.WriteBack;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Warmup} on a second cache directory restored from a target, which is then taken away. */
class WarmupTest {
    private static final int BLOCK = 64 << 10;

    @TempDir
    Path dir;

    /** A target whose reads fail while it is down. */
    static final class Unreadable extends ForwardingStore {
        volatile boolean down;

        Unreadable(MemoryStore inner) {
            super(inner);
        }

        @Override
        public byte[] get(String key) throws StoreException {
            if (down) {
                throw new StoreUnavailableException("the test took this target down", null);
            }
            return super.get(key);
        }
    }

    private static byte[] data(int n) {
        byte[] d = new byte[n];
        new Random(n).nextBytes(d);
        return d;
    }

    /** Writes /d/f1.. /d/f{count} of one block each plus /d/sub/g (two blocks) and uploads them. */
    private MemoryStore volume(int count) throws Exception {
        MemoryStore store = new MemoryStore();
        try (LmdbKv kv = new LmdbKv(dir.resolve("writer"), 256L << 20); Closer closer = new Closer()) {
            BlockCache cache = closer.add(new BlockCache(kv, List.of(store), 64L << 20, 0));
            Vfs vfs = new Vfs(kv, cache, BLOCK, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
            vfs.initRoot(Caller.ROOT);
            vfs.mkdir("/d", 0755, Caller.ROOT);
            vfs.mkdir("/d/sub", 0755, Caller.ROOT);
            for (int i = 1; i <= count; i++) {
                write(vfs, "/d/f" + i, data(BLOCK - i));
            }
            write(vfs, "/d/sub/g", data(2 * BLOCK));
            try (WriteBack wb = new WriteBack(kv, cache, "main", 2, dir)) {
                wb.start();
                assertTrue(wb.flushAll(30_000), "the upload did not finish");
            }
            vfs.close();
        }
        return store;
    }

    private static void write(Vfs vfs, String path, byte[] data) throws FsException {
        long fh = vfs.create(path, 0644, 2, Caller.ROOT);
        vfs.write(fh, 0, data, data.length);
        vfs.release(fh);
    }

    private static byte[] read(Vfs vfs, String path) throws FsException {
        long fh = vfs.open(path, 0);
        try {
            byte[] out = new byte[(int) vfs.getattr(path).size()];
            assertEquals(out.length, vfs.read(fh, 0, out, out.length));
            return out;
        } finally {
            vfs.release(fh);
        }
    }

    private Warmup.Progress warm(LmdbKv kv, BlockCache cache, Vfs vfs, String path) throws FsException {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Map<String, Long> roots = new LinkedHashMap<>();
            roots.put(path, vfs.resolve(path));
            Warmup w = new Warmup(kv, cache, roots, 3, pool);
            w.run();
            return w.progress();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void warmedFilesReadWithTheTargetDown() throws Exception {
        Unreadable target = new Unreadable(volume(5));
        try (LmdbKv kv = new LmdbKv(dir.resolve("reader"), 256L << 20); Closer closer = new Closer()) {
            Recovery.restore(kv, target, "main");
            BlockCache cache = closer.add(new BlockCache(kv, List.of(target), 64L << 20, 0));
            Vfs vfs = new Vfs(kv, cache, BLOCK, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
            Warmup.Progress p = warm(kv, cache, vfs, "/d");
            assertTrue(p.done());
            assertEquals(6, p.filesTotal());
            assertEquals(6, p.filesDone());
            assertEquals(0, p.filesFailed());
            assertNull(p.stopped());
            assertEquals(5L * BLOCK - 15 + 2 * BLOCK, p.fetchedBytes());
            assertEquals(0, warm(kv, cache, vfs, "/d").fetchedBytes(), "a second warmup finds everything cached");
            target.down = true;
            for (int i = 1; i <= 5; i++) {
                assertArrayEquals(data(BLOCK - i), read(vfs, "/d/f" + i));
            }
            assertArrayEquals(data(2 * BLOCK), read(vfs, "/d/sub/g"));
            vfs.close();
        }
    }

    @Test
    void itStopsBeforeTheFileThatWouldEvictWhatItFetchedAndReportsUnreadableFiles() throws Exception {
        Unreadable target = new Unreadable(volume(6));
        try (LmdbKv kv = new LmdbKv(dir.resolve("reader"), 256L << 20); Closer closer = new Closer()) {
            Recovery.restore(kv, target, "main");
            BlockCache small = closer.add(new BlockCache(kv, List.of(target), 4L * small(kv), 0));
            Vfs vfs = new Vfs(kv, small, BLOCK, io.stratafs.vfs.Clock.SYSTEM, () -> new FsStats(1, 1, 0));
            Warmup.Progress p = warm(kv, small, vfs, "/d");
            assertEquals(3, p.filesDone(), "a budget of 4 blocks less 1/64 holds 3: " + p);
            assertEquals("/d/f4", p.stoppedBefore());
            assertTrue(p.stopped().contains("raise --cache-size"), p.stopped());
            target.down = true;
            for (int i = 1; i <= 3; i++) {
                assertArrayEquals(data(BLOCK - i), read(vfs, "/d/f" + i));
            }
            assertThrows(FsException.class, () -> read(vfs, "/d/f4"), "f4 was not warmed");
            Warmup.Progress failing = warm(kv, small, vfs, "/d/f5");
            assertEquals(1, failing.filesFailed());
            assertTrue(failing.failures().get(0).startsWith("/d/f5: cannot read block"), failing.failures().toString());
            vfs.close();
        }
    }

    /** The cache footprint of one of the test's one-block files. */
    private static long small(LmdbKv kv) {
        try (BlockCache c = new BlockCache(kv, List.of(new MemoryStore()), 1L << 30, 0)) {
            return c.footprint(BLOCK - 1);
        }
    }
}
