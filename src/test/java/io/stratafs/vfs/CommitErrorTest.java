package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed background block commit sticks to the file until each descriptor has been told at fsync
 * or close (Linux's errseq rule for writeback errors), the failed data is kept and committed again,
 * and no throwable, an Error included, leaves the file's commit chain half done.
 */
class CommitErrorTest {
    private static final int BLOCK = 64 << 10;
    private static final Caller USER = new Caller(1000, 1000);
    private static final int RW = Handle.O_RDWR;
    private static final Duration BOUND = Duration.ofSeconds(30);

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

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    /** Makes the first background commit of block {@code index} fail with {@code failure}. */
    private void failOnce(long index, Throwable failure) {
        AtomicInteger left = new AtomicInteger(1);
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void beforeBackgroundCommit(long ino, long i) throws FsException {
                if (i == index && left.getAndDecrement() > 0) {
                    if (failure instanceof FsException fe) {
                        throw fe;
                    }
                    if (failure instanceof Error e) {
                        throw e;
                    }
                    throw (RuntimeException) failure;
                }
            }
        });
    }

    private Errno fails(Executable body) {
        return assertTimeoutPreemptively(BOUND, () -> assertThrows(FsException.class, body)).errno();
    }

    private void succeeds(Executable body) {
        assertTimeoutPreemptively(BOUND, body);
    }

    private byte[] readBack(String path, int length) throws FsException {
        long fh = vfs.open(path, 0);
        try {
            byte[] out = new byte[length];
            assertEquals(length, vfs.read(fh, 0, out, length));
            return out;
        } finally {
            vfs.release(fh);
        }
    }

    @Test
    void fsyncReportsAFailedBackgroundCommitOnceAndTheDataIsKept() throws Exception {
        failOnce(0, new FsException(Errno.EIO, "injected"));
        byte[] data = random(BLOCK, 1);
        long fh = vfs.create("/f", 0644, RW, USER);
        vfs.write(fh, 0, data, data.length);
        assertEquals(Errno.EIO, fails(() -> vfs.fsync(fh)), "the first fsync reports the failure");
        succeeds(() -> vfs.fsync(fh));
        vfs.release(fh);
        assertArrayEquals(data, readBack("/f", BLOCK), "the failed block was committed again, not dropped");
    }

    @Test
    void everyDescriptorOpenAtTheFailureIsToldOnceAndALaterOneIsNot() throws Exception {
        failOnce(0, new FsException(Errno.ENOSPC, "injected"));
        byte[] data = random(BLOCK, 2);
        long writer = vfs.create("/f", 0644, RW, USER);
        long other = vfs.open("/f", RW);
        vfs.write(writer, 0, data, data.length);
        assertEquals(Errno.ENOSPC, fails(() -> vfs.fsync(writer)));
        long later = vfs.open("/f", RW);
        assertEquals(Errno.ENOSPC, fails(() -> vfs.flush(other)), "close through another descriptor reports it too");
        succeeds(() -> vfs.flush(other));
        succeeds(() -> vfs.fsync(writer));
        succeeds(() -> vfs.fsync(later));
        vfs.release(later);
        vfs.release(other);
        vfs.release(writer);
        assertArrayEquals(data, readBack("/f", BLOCK));
    }

    @Test
    void aDescriptorOpenedAfterAnUnreportedFailureIsToldToo() throws Exception {
        failOnce(0, new FsException(Errno.EIO, "injected"));
        byte[] data = random(BLOCK, 4);
        long writer = vfs.create("/f", 0644, RW, USER);
        vfs.write(writer, 0, data, data.length);
        succeeds(() -> vfs.truncate("/f", BLOCK));
        long later = vfs.open("/f", RW);
        assertEquals(Errno.EIO, fails(() -> vfs.fsync(later)), "nobody had been told yet");
        assertEquals(Errno.EIO, fails(() -> vfs.fsync(writer)));
        succeeds(() -> vfs.fsync(later));
        vfs.release(later);
        vfs.release(writer);
        assertArrayEquals(data, readBack("/f", BLOCK));
    }

    @Test
    void anErrorInABackgroundCommitNeitherHangsCloseNorBreaksTheChain() throws Exception {
        failOnce(0, new OutOfMemoryError("injected"));
        byte[] data = random(3 * BLOCK, 3);
        long fh = vfs.create("/f", 0644, RW, USER);
        for (int b = 0; b < 3; b++) {
            vfs.write(fh, (long) b * BLOCK, java.util.Arrays.copyOfRange(data, b * BLOCK, (b + 1) * BLOCK), BLOCK);
        }
        assertEquals(Errno.EIO, fails(() -> vfs.flush(fh)), "close reports the failed commit");
        succeeds(() -> vfs.release(fh));
        assertArrayEquals(data, readBack("/f", 3 * BLOCK), "all three blocks are in the file");
    }
}
