package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open, release and unlink of one inode interleaved at the points where they race (the kernel sends
 * RELEASE asynchronously, so a close followed at once by an open of the same file can overlap),
 * forced deterministically through {@link OpenFiles.Hooks}.
 */
class OpenReleaseRaceTest {
    private static final int BLOCK = 64 << 10;
    private static final Caller USER = new Caller(1000, 1000);
    private static final int RW = Handle.O_RDWR;
    private static final int READ_ONLY = 0;

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

    private void writeFile(String path, byte[] data) throws FsException {
        long fh = vfs.create(path, 0644, RW, USER);
        vfs.write(fh, 0, data, data.length);
        vfs.release(fh);
    }

    /** Releases {@code fh} while an open of {@code path} slips in right after the last handle is counted down. */
    private long releaseWithOpenInBetween(long fh, String path) throws FsException {
        long[] opened = {0};
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void lastHandleCounted(long ino) {
                if (opened[0] == 0) {
                    try {
                        opened[0] = vfs.open(path, RW);
                    } catch (FsException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        });
        try {
            vfs.release(fh);
        } finally {
            vfs.setHooks(OpenFiles.Hooks.NONE);
        }
        assertTrue(opened[0] != 0, "the hook ran");
        return opened[0];
    }

    @Test
    void anOpenRacingTheLastReleaseSeesItsOwnWritesInFstat() throws Exception {
        writeFile("/f", random(100, 1));
        long fh1 = vfs.open("/f", RW);
        long fh2 = releaseWithOpenInBetween(fh1, "/f");
        byte[] data = random(5000, 2);
        vfs.write(fh2, 0, data, data.length);
        assertEquals(5000, vfs.getattr(vfs.inoOf(fh2)).size(), "fstat through the new handle, before any commit");
        assertEquals(5000, vfs.getattr("/f").size(), "stat of the name, before any commit");
        long fh3 = vfs.open("/f", RW);
        vfs.write(fh3, 5000, data, 10);
        assertEquals(5010, vfs.getattr(vfs.inoOf(fh2)).size(), "both handles share one per-file state");
        vfs.release(fh3);
        vfs.release(fh2);
        assertEquals(5010, vfs.getattr("/f").size());
    }

    @Test
    void anOpenRacingTheLastReleaseKeepsItsFileThroughAnUnlink() throws Exception {
        byte[] data = random(3 * BLOCK + 7, 3);
        writeFile("/f", data);
        long ino = vfs.resolve("/f");
        long fh1 = vfs.open("/f", RW);
        long fh2 = releaseWithOpenInBetween(fh1, "/f");
        vfs.unlink("/f");
        assertEquals(0, vfs.getattr(ino).nlink(), "unlinked but open: link count 0, inode kept");
        byte[] back = new byte[data.length];
        assertEquals(data.length, vfs.read(fh2, 0, back, back.length));
        assertArrayEquals(data, back, "an open file's data stays readable after its unlink");
        vfs.release(fh2);
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> vfs.getattr(ino)).errno(), "freed at the last close");
    }

    @Test
    void anOpenDuringAnUnlinkTransactionFailsOrKeepsTheFile() throws Exception {
        byte[] data = random(BLOCK + 11, 4);
        writeFile("/f", data);
        long ino = vfs.resolve("/f");
        CountDownLatch decided = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        CompletableFuture<Void> openDoneOrWaiting = new CompletableFuture<>();
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void deletionDecided(long i) {
                decided.countDown();
                await(proceed);
            }

            @Override
            public void openWaitsForDeletion(long i) {
                openDoneOrWaiting.complete(null);
            }
        });
        CompletableFuture<Void> unlink = unlinkAsync("/f");
        await(decided);
        CompletableFuture<Long> open = CompletableFuture.supplyAsync(() -> {
            try {
                return vfs.open("/f", RW);
            } catch (FsException e) {
                return -(long) e.errno().value();
            } finally {
                openDoneOrWaiting.complete(null);
            }
        });
        openDoneOrWaiting.get(30, TimeUnit.SECONDS);
        proceed.countDown();
        unlink.get(30, TimeUnit.SECONDS);
        long fh = open.get(30, TimeUnit.SECONDS);
        vfs.setHooks(OpenFiles.Hooks.NONE);
        if (fh < 0) {
            assertEquals(-Errno.ENOENT.value(), fh, "an open that lost the race fails with ENOENT");
            return;
        }
        assertEquals(0, vfs.getattr(ino).nlink(), "an open that won the race keeps the inode");
        byte[] back = new byte[data.length];
        assertEquals(data.length, vfs.read(fh, 0, back, back.length));
        assertArrayEquals(data, back);
        vfs.release(fh);
    }

    /**
     * The unlink finds the file open (its claim is refused) and stops inside its transaction; the
     * last close counts its handle down meanwhile. That close must free the inode once the unlink
     * has committed its link count of 0: nothing else would.
     */
    @Test
    void anUnlinkCommittingDuringTheLastCloseLeavesTheFreeingToThatClose() throws Exception {
        writeFile("/f", random(2 * BLOCK + 3, 7));
        long ino = vfs.resolve("/f");
        long fh = vfs.open("/f", READ_ONLY);
        CountDownLatch refused = new CountDownLatch(1);
        CountDownLatch counted = new CountDownLatch(1);
        AtomicInteger freed = new AtomicInteger();
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void deletionRefused(long i) {
                refused.countDown();
                await(counted); // the unlink's transaction stays open until the close counted down
            }

            @Override
            public void lastHandleCounted(long i) {
                counted.countDown();
            }

            @Override
            public void deletionDecided(long i) {
                freed.incrementAndGet();
            }
        });
        CompletableFuture<Void> unlink = unlinkAsync("/f");
        await(refused);
        vfs.release(fh);
        unlink.get(30, TimeUnit.SECONDS);
        vfs.setHooks(OpenFiles.Hooks.NONE);
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> vfs.getattr(ino)).errno(),
                "the last close freed the inode the unlink left with no name");
        assertEquals(1, freed.get(), "freed exactly once");
    }

    /** The last close counts down before the unlink claims the inode: the unlink frees it, the close does not again. */
    @Test
    void anUnlinkAfterTheLastCloseCountedDownFreesTheFileItself() throws Exception {
        writeFile("/f", random(BLOCK + 5, 8));
        long ino = vfs.resolve("/f");
        long fh = vfs.open("/f", READ_ONLY);
        AtomicInteger freed = new AtomicInteger();
        boolean[] unlinked = {false};
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void lastHandleCounted(long i) {
                try {
                    vfs.unlink("/f");
                    unlinked[0] = true;
                } catch (FsException e) {
                    throw new AssertionError(e);
                }
            }

            @Override
            public void deletionDecided(long i) {
                freed.incrementAndGet();
            }
        });
        try {
            vfs.release(fh);
        } finally {
            vfs.setHooks(OpenFiles.Hooks.NONE);
        }
        assertTrue(unlinked[0], "the hook ran");
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> vfs.getattr(ino)).errno());
        assertEquals(1, freed.get(), "freed exactly once, by the unlink");
    }

    /** A second name renamed over an open file drops its inode's last link: the last close frees it. */
    @Test
    void aRenameOverAnOpenFileLeavesTheFreeingToItsLastClose() throws Exception {
        byte[] data = random(BLOCK + 9, 9);
        writeFile("/victim", data);
        writeFile("/other", random(10, 10));
        long ino = vfs.resolve("/victim");
        long fh1 = vfs.open("/victim", READ_ONLY);
        long fh2 = vfs.open(ino, READ_ONLY);
        vfs.rename("/other", "/victim");
        vfs.release(fh1);
        assertEquals(0, vfs.getattr(ino).nlink(), "one handle left: kept");
        byte[] back = new byte[data.length];
        assertEquals(data.length, vfs.read(fh2, 0, back, back.length));
        assertArrayEquals(data, back);
        vfs.release(fh2);
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> vfs.getattr(ino)).errno(), "freed at the last close");
    }

    /**
     * The common close, of a file that still has its name, leaves LMDB alone: it completes while
     * another thread holds LMDB's one writer (it used to take the writer to check the link count).
     */
    @Test
    void theLastCloseOfALinkedFileDoesNotWaitForTheWriter() throws Exception {
        writeFile("/f", random(100, 11));
        long fh = vfs.open("/f", READ_ONLY);
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch letGo = new CountDownLatch(1);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> kv.writeVoid(txn -> {
            holding.countDown();
            await(letGo);
        }));
        try {
            await(holding);
            CompletableFuture<Void> close = CompletableFuture.runAsync(() -> {
                try {
                    vfs.release(fh);
                } catch (FsException e) {
                    throw new AssertionError(e);
                }
            });
            close.get(10, TimeUnit.SECONDS);
        } finally {
            letGo.countDown();
            writer.get(30, TimeUnit.SECONDS);
        }
        assertEquals(1, vfs.getattr("/f").nlink());
    }

    @Test
    void fstatRacingACommitOfTheSameFileSeesTheCommittedSize() throws Exception {
        writeFile("/f", random(100, 5));
        long writer = vfs.open("/f", RW);
        long closer = vfs.open("/f", RW);
        byte[] data = random(5000, 6);
        vfs.write(writer, 0, data, data.length);
        boolean[] committed = {false};
        vfs.setHooks(new OpenFiles.Hooks() {
            @Override
            public void beforeAttributes(long ino) {
                if (!committed[0]) {
                    committed[0] = true;
                    try {
                        vfs.flush(closer);
                    } catch (FsException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        });
        try {
            assertEquals(5000, vfs.getattr(vfs.inoOf(writer)).size(), "fstat while the close of another descriptor commits");
        } finally {
            vfs.setHooks(OpenFiles.Hooks.NONE);
        }
        assertTrue(committed[0], "the hook ran");
        vfs.release(closer);
        vfs.release(writer);
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new AssertionError("the other thread never reached its step");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Unlinks {@code path} on another thread; a failure fails the future. */
    private CompletableFuture<Void> unlinkAsync(String path) {
        return CompletableFuture.runAsync(() -> {
            try {
                vfs.unlink(path);
            } catch (FsException e) {
                throw new AssertionError(e);
            }
        });
    }
}
