package io.stratafs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.fuse.MemPathFs;
import io.stratafs.fuse.lowlevel.LowLevelFileSystem;
import io.stratafs.fuse.lowlevel.LowLevelMount;
import io.stratafs.fuse.lowlevel.MemLowLevelFs;
import io.stratafs.fuse.lowlevel.MemTree;
import io.stratafs.testing.TempDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The low-level binding mounted for real through /dev/fuse with an in-memory filesystem, driven by
 * coreutils: one kernel inode per file with attribute caching on, data through cat and dd, a removed
 * file read through its open descriptor, and the two notify calls that drop what the kernel cached.
 */
class LowLevelMountIT {
    private static final long ROOT = LowLevelFileSystem.ROOT;
    private Path dir;
    private Path mnt;
    private LowLevelMount mount;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("stratafs-it-lowlevel-");
        mnt = Files.createDirectory(dir.resolve("mnt"));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (mount != null) {
                mount.close();
            }
        } finally {
            if (Files.readString(Path.of("/proc/mounts")).contains(mnt.toString())) {
                Shell.run(dir, 30, List.of("fusermount", "-u", "-z", mnt.toString()));
            }
            TempDirs.delete(dir);
        }
    }

    private MemTree mount(double attrTimeout, double entryTimeout) {
        return mount(new MemLowLevelFs(new MemTree(true), attrTimeout, entryTimeout), LowLevelMount.DEFAULT_SPIN_MICROS);
    }

    private MemTree mount(MemLowLevelFs fs, long spinMicros) {
        mount = LowLevelMount.mount(fs, mnt, List.of("fsname=memll", "subtype=memll", "big_writes", "max_write=131072"), 4, spinMicros);
        return fs.tree();
    }

    private String sh(String script) {
        Shell.Result r = Shell.run(mnt, 60, List.of("sh", "-c", script));
        assertEquals(0, r.exit(), () -> script + " failed: " + r.out());
        return r.out();
    }

    @Test
    void bothNamesOfAHardLinkShowOneInodeAndTwoLinksWithAttributeCachingOn() {
        mount(1.0, 1.0);
        String ls = sh("echo hello > a && ln a b && ls -li a b");
        List<String[]> rows = ls.lines().map(l -> l.trim().split("\\s+")).toList();
        assertEquals(2, rows.size(), ls);
        assertEquals(rows.get(0)[0], rows.get(1)[0], "one inode for both names: " + ls);
        assertEquals("2", rows.get(0)[2], "link count through a: " + ls);
        assertEquals("2", rows.get(1)[2], "link count through b: " + ls);
        // Within the attribute timeout a change through one name shows through the other at once.
        assertEquals(List.of("6", "6", "12", "12"),
                sh("stat -c %s a; stat -c %s b; echo hello >> b; stat -c %s a; stat -c %s b").lines().toList());
        assertEquals("1", sh("rm b && stat -c %h a").trim(), "link count after removing one name");
    }

    /**
     * The contrast that motivates the binding: the same tree through jnr-fuse's path API with
     * attribute caching on gives each name its own kernel inode, so a size changed through one name
     * is stale through the other until the timeout.
     */
    @Test
    void thePathApiWithAttributeCachingShowsAStaleSizeThroughTheOtherName() throws Exception {
        MemTree tree = new MemTree(true);
        tree.link(tree.make(ROOT, "a", 0100644, 0, 0), ROOT, "b");
        MemPathFs fs = new MemPathFs(tree);
        CountDownLatch mounted = new CountDownLatch(1);
        Thread server = new Thread(() -> {
            try {
                fs.serve(mnt, List.of("-o", "use_ino,attr_timeout=3600,entry_timeout=3600"), mounted::countDown);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "path-api-mount");
        server.start();
        try {
            assertTrue(mounted.await(30, TimeUnit.SECONDS), "the path-API mount came up");
            assertEquals(List.of("0", "0", "6", "0"),
                    sh("stat -c %s a; stat -c %s b; echo hello >> b; stat -c %s b; stat -c %s a").lines().toList(),
                    "b sees its own write, a keeps the size it cached");
        } finally {
            Shell.run(dir, 30, List.of("fusermount", "-u", mnt.toString()));
            server.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @ParameterizedTest(name = "polling /dev/fuse for {0} µs")
    @ValueSource(longs = {LowLevelMount.DEFAULT_SPIN_MICROS, 0})
    void ddWritesAndCatReadsBackTheSameBytes(long spinMicros) throws IOException {
        mount(new MemLowLevelFs(new MemTree(true), 1.0, 1.0), spinMicros);
        Path src = dir.resolve("src");
        Shell.Result r = Shell.run(dir, 60, List.of("dd", "if=/dev/urandom", "of=" + src, "bs=128k", "count=40", "status=none"));
        assertEquals(0, r.exit(), r.out());
        sh("dd if=" + src + " of=copy bs=128k status=none && mkdir d && cat copy > d/again");
        assertEquals(-1, Files.mismatch(src, mnt.resolve("copy")));
        assertEquals(-1, Files.mismatch(src, mnt.resolve("d/again")));
        assertEquals(String.valueOf(40 * 128 * 1024), sh("stat -c %s d/again").trim());
    }

    /**
     * The reader keeps a statfs to serve itself and the statfs does not return: the watcher hands the
     * reader's part to another thread, so stat, read, create and list go on meanwhile.
     */
    @Test
    void aRequestTheReaderServesThatHangsDoesNotHoldTheOthers() throws Exception {
        MemLowLevelFs fs = new MemLowLevelFs(new MemTree(true), 1.0, 1.0);
        mount(fs, LowLevelMount.DEFAULT_SPIN_MICROS);
        sh("echo before > f");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch released = new CountDownLatch(1);
        long reliefsBefore = mount.stats().relieved();
        fs.holdStatfs(entered, released);
        Process statfs = new ProcessBuilder("stat", "-f", "-c", "%b", mnt.toString()).redirectErrorStream(true).start();
        try {
            assertTrue(entered.await(60, TimeUnit.SECONDS), "the statfs reached the filesystem");
            assertEquals(List.of("before", "after"), sh("cat f; echo after > g; cat g; ls >/dev/null").lines().toList(),
                    "requests served while the reader's statfs hangs");
            assertTrue(statfs.isAlive(), "the statfs is still held");
            assertTrue(mount.stats().relieved() > reliefsBefore, "the watcher took the reader's part over: " + mount.stats());
        } finally {
            released.countDown();
            assertTrue(statfs.waitFor(60, TimeUnit.SECONDS), "stat -f returned once released");
        }
        assertEquals(0, statfs.exitValue());
    }

    @Test
    void aRemovedFileStaysReadableThroughItsOpenDescriptorAndLeavesNoHiddenName() {
        mount(1.0, 1.0);
        sh("echo still here > f");
        String out = sh("exec 3<f; rm f; cat <&3; stat -L -c 'links=%h size=%s' /proc/self/fd/3; ls -a; test ! -e f");
        assertTrue(out.startsWith("still here\n"), out);
        assertTrue(out.contains("links=0 size=11"), "fstat of the open, unlinked file: " + out);
        assertFalse(out.contains(".fuse_hidden"), out);
        assertEquals(List.of(".", ".."), sh("ls -a").lines().toList());
    }

    @Test
    void invalidateEntryShowsARenameMadeBehindTheKernelsBack() {
        MemTree tree = mount(3600, 3600);
        sh("echo x > old && stat old > /dev/null");
        tree.rename(ROOT, "old", ROOT, "new");
        assertEquals(0, Shell.run(mnt, 30, List.of("stat", "old")).exit(), "the kernel still trusts its cached entry");
        assertTrue(mount.invalidateEntry(ROOT, "old"));
        assertNotEquals(0, Shell.run(mnt, 30, List.of("stat", "old")).exit(), "old is gone once invalidated");
        assertEquals("x", sh("cat new").trim());
        assertFalse(mount.invalidateEntry(ROOT, "never-looked-up"), "no cached entry to drop");
    }

    @Test
    void invalidateInodeShowsASizeChangedBehindTheKernelsBack() {
        MemTree tree = mount(3600, 3600);
        sh("echo 12345 > f && stat -c %s f");
        long ino = tree.lookup(ROOT, "f");
        tree.write(ino, 6, java.nio.ByteBuffer.wrap("more\n".getBytes()));
        assertEquals("6", sh("stat -c %s f").trim(), "the kernel still trusts its cached attributes");
        assertTrue(mount.invalidateInode(ino, 0, 0));
        assertEquals("11", sh("stat -c %s f").trim());
        assertEquals("12345\nmore", sh("cat f").trim());
    }

    @Test
    void mountingOnAMissingDirectoryFailsWithASentence() {
        Path missing = dir.resolve("missing");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LowLevelMount.mount(new MemLowLevelFs(new MemTree(true), 1, 1), missing, List.of(), 1));
        assertTrue(e.getMessage().contains("could not mount " + missing), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> LowLevelMount.mount(new MemLowLevelFs(new MemTree(true), 1, 1), mnt, List.of(), 0));
    }
}
