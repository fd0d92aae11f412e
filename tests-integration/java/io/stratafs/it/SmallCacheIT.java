package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.testing.TempDirs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand small files (40 MB) through a 16 MiB cache (issue 7, item 4). A 3-5 KiB block
 * takes one or two whole 4 KiB LMDB overflow pages; the cache must count those pages, so the
 * blocks it keeps stay within --cache-size and eviction starts before LMDB's map fills.
 *
 * <p>The cache directories are on tmpfs where there is one: every file costs a few flushed LMDB
 * commits, and on a disk that alone would take minutes; what is tested here is the accounting.
 */
class SmallCacheIT {
    private static final int FILES = 10_000;
    private static final long CACHE = 16L << 20;

    /** Writes FILES files of 3-5 KiB into 100 directories and prints the SHA-256 of all of them, in order. */
    private static final String WRITER = """
            import hashlib, os, random, sys
            root, n = sys.argv[1], int(sys.argv[2])
            rnd = random.Random(7); total = hashlib.sha256()
            for i in range(n):
                d = os.path.join(root, "d%d" % (i % 100))
                if i < 100: os.mkdir(d)
                data = rnd.randbytes(3072 + rnd.randrange(2048))
                with open(os.path.join(d, "f%d" % i), "wb") as f: f.write(data)
                total.update(data)
            print(total.hexdigest())
            """;

    /** Reads the same files back in the same order and prints the same digest. */
    private static final String READER = """
            import hashlib, os, sys
            root, n = sys.argv[1], int(sys.argv[2])
            total = hashlib.sha256()
            for i in range(n):
                with open(os.path.join(root, "d%d" % (i % 100), "f%d" % i), "rb") as f: total.update(f.read())
            print(total.hexdigest())
            """;

    @Test
    void smallFilesFillASmallCacheAndReadBackColdWithoutENOSPC() throws Exception {
        Path caches = Files.isWritable(Path.of("/dev/shm"))
                ? Files.createTempDirectory(Path.of("/dev/shm"), "stratafs-it-")
                : Files.createTempDirectory("stratafs-it-");
        try (MountFixture fs = new MountFixture().withMountArgs("--cache-size", "16M")) {
            fs.cache = caches.resolve("cache-0");
            fs.format().mount();
            long start = System.nanoTime();
            String written = python(fs, WRITER);
            long wrote = System.nanoTime();
            waitForUploads(fs);
            assertTrue(fs.statusField("cacheBytes") <= CACHE, "the cache passed its size: " + fs.statusJson());

            fs.umount();
            fs.cache = caches.resolve("cache-1");
            fs.mount();
            long metadataOnly = fs.statusField("lmdbFileBytes");
            long readStart = System.nanoTime();
            assertEquals(written, python(fs, READER), "a file read back cold differs from what was written");
            System.out.printf("SmallCacheIT: wrote %d files in %.1f s, read them back cold in %.1f s%n",
                    FILES, (wrote - start) / 1e9, (System.nanoTime() - readStart) / 1e9);
            long grown = fs.statusField("lmdbFileBytes") - metadataOnly;
            assertTrue(fs.statusField("cacheBytes") <= CACHE, "the cache passed its size: " + fs.statusJson());
            // LMDB's file also holds pages freed by evictions that a reader's older snapshot still
            // pinned when the next fill committed; fills run beside the readers (cache/CacheFill),
            // and one run of two grew 19.0 MB here (an eighth over would be 18.9). A quarter over
            // still fails a cache that stops counting pages (it grows by the 40 MB read).
            assertTrue(grown <= CACHE + CACHE / 4,
                    "the blocks kept took " + grown + " bytes of LMDB for a cache of " + CACHE + ": " + fs.statusJson());
        } finally {
            TempDirs.delete(caches);
        }
    }

    private static String python(MountFixture fs, String script) {
        Shell.Split r = Shell.runSplit(fs.root, 120, List.of("python3", "-c", script, fs.mnt.toString(), String.valueOf(FILES)));
        assertEquals(0, r.exit(), "python failed: " + r.stderr() + fs.logTail());
        return r.stdout().strip();
    }

    private static void waitForUploads(MountFixture fs) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (fs.statusField("pendingBlocks") > 0 || fs.statusField("pendingJournalEntries") > 0) {
            assertTrue(System.nanoTime() < deadline, "uploads did not finish: " + fs.statusJson());
            Thread.sleep(200);
        }
    }
}
