package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer that fills the same block again and again (a file rewritten in place while open) waits
 * for the background committer like any other: each queued commit holds a whole block on the heap,
 * so while the committer is slow (a disk flush under load), rewrites must not queue without bound.
 * CrashIT's daemon died of OutOfMemoryError with 82 commits of one 4 MiB block queued.
 */
class BackgroundCommitBoundTest {
    private static final Caller USER = new Caller(1000, 1000);
    private static final int BLOCK = 64 << 10;
    private static final int PASSES = 12;

    @TempDir
    Path dir;
    private LmdbKv kv;
    private BlockCache cache;
    private Vfs vfs;

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir, 256L << 20);
        cache = new BlockCache(kv, List.of(new MemoryStore()), 64L << 20, 8L << 20);
        vfs = new Vfs(kv, cache, BLOCK, System::nanoTime, () -> new FsStats(1L << 40, 1L << 39, 0));
        vfs.initRoot(USER);
    }

    @AfterEach
    void close() {
        vfs.close();
        cache.close();
        kv.close();
    }

    @Test
    void rewritingOneBlockWaitsForTheCommitterInsteadOfQueueingWithoutBound() throws Exception {
        CountDownLatch committerHeld = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch writerWaits = new CountDownLatch(1);
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void beforeBackgroundCommit(long ino, long index) {
                committerHeld.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void waitsForCommits(long ino) {
                writerWaits.countDown();
            }
        });
        byte[][] passes = new byte[PASSES][BLOCK];
        Random random = new Random(9);
        for (byte[] p : passes) {
            random.nextBytes(p);
        }
        long fh = vfs.create("/rewritten", 0644, Handle.O_RDWR, USER);
        AtomicInteger done = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (byte[] p : passes) {
                    for (int at = 0; at < BLOCK; at += 4096) {
                        byte[] piece = java.util.Arrays.copyOfRange(p, at, at + 4096);
                        vfs.write(fh, at, piece, piece.length);
                    }
                    done.incrementAndGet();
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        try {
            writer.start();
            assertTrue(committerHeld.await(30, TimeUnit.SECONDS), "the first background commit never started");
            while (writer.isAlive() && writerWaits.getCount() > 0) {
                writer.join(10);
            }
            assertTrue(writerWaits.getCount() == 0 && done.get() < PASSES,
                    "with the committer held, the writer queued all " + done.get() + " rewrites of the block without waiting");
            assertTrue(done.get() <= 5, "the writer queued " + done.get() + " commits of one block before it waited");
        } finally {
            release.countDown();
            writer.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertTrue(failed.get() == null, () -> "the writer failed: " + failed.get());
        assertTrue(done.get() == PASSES);
        vfs.release(fh);
        long rd = vfs.open("/rewritten", 0);
        byte[] got = new byte[BLOCK];
        vfs.read(rd, 0, got, BLOCK);
        vfs.release(rd);
        assertArrayEquals(passes[PASSES - 1], got, "the last rewrite is the content");
    }
}
