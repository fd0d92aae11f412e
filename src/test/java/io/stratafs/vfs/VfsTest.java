package io.stratafs.vfs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.LmdbKv;
import io.stratafs.meta.Namespace;
import io.stratafs.store.MemoryStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VfsTest {
    static final int BLOCK = 64 << 10;
    static final Caller USER = new Caller(1000, 1000);
    static final int RW = Handle.O_RDWR;

    @TempDir
    Path dir;
    LmdbKv kv;
    BlockCache cache;
    Vfs vfs;
    long now = 1_000_000_000_000L;

    @BeforeEach
    void open() {
        kv = new LmdbKv(dir, 256L << 20);
        cache = new BlockCache(kv, List.of(new MemoryStore()), 64L << 20, 8L << 20);
        vfs = new Vfs(kv, cache, BLOCK, () -> now, () -> new FsStats(1L << 40, 1L << 39, 0));
        vfs.initRoot(USER);
    }

    @AfterEach
    void close() {
        vfs.close();
        cache.close();
        kv.close();
    }

    private static Errno fails(Executable body) {
        return assertThrows(FsException.class, body::run).errno();
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    private byte[] readAll(String path) throws FsException {
        long fh = vfs.open(path, 0);
        try {
            int size = (int) vfs.getattr(path).size();
            byte[] out = new byte[size];
            int n = vfs.read(fh, 0, out, size);
            assertEquals(size, n);
            return out;
        } finally {
            vfs.release(fh);
        }
    }

    private void writeFile(String path, byte[] data) throws FsException {
        long fh = vfs.create(path, 0644, RW | Handle.O_CREAT | Handle.O_TRUNC, USER);
        vfs.write(fh, 0, data, data.length);
        vfs.release(fh);
    }

    private static byte[] random(int n, long seed) {
        byte[] d = new byte[n];
        new Random(seed).nextBytes(d);
        return d;
    }

    @Test
    void filesSpanningManyBlocksReadBackExactly() throws Exception {
        byte[] data = random(5 * BLOCK + 123, 1);
        long fh = vfs.create("/f", 0644, RW, USER);
        for (int off = 0; off < data.length; off += 10_000) {
            int n = Math.min(10_000, data.length - off);
            vfs.write(fh, off, Arrays.copyOfRange(data, off, off + n), n);
        }
        assertEquals(data.length, vfs.getattr("/f").size(), "size is visible before commit");
        vfs.release(fh);
        assertArrayEquals(data, readAll("/f"));
    }

    @Test
    void holesReadAsZeros() throws Exception {
        long fh = vfs.create("/sparse", 0644, RW, USER);
        vfs.write(fh, 3L * BLOCK + 5, new byte[] {7}, 1);
        vfs.release(fh);
        byte[] all = readAll("/sparse");
        assertEquals(3 * BLOCK + 6, all.length);
        for (int i = 0; i < all.length - 1; i++) {
            assertEquals(0, all[i]);
        }
        assertEquals(7, all[all.length - 1]);
    }

    @Test
    void randomOverwritesMatchAReferenceArray() throws Exception {
        byte[] ref = random(3 * BLOCK, 2);
        writeFile("/r", ref);
        Random rnd = new Random(3);
        long fh = vfs.open("/r", RW);
        for (int i = 0; i < 200; i++) {
            int off = rnd.nextInt(ref.length + BLOCK);
            byte[] chunk = random(1 + rnd.nextInt(5000), i);
            vfs.write(fh, off, chunk, chunk.length);
            if (off + chunk.length > ref.length) {
                ref = Arrays.copyOf(ref, off + chunk.length);
            }
            System.arraycopy(chunk, 0, ref, off, chunk.length);
            if (i % 50 == 0) {
                vfs.flush(fh);
            }
        }
        vfs.release(fh);
        assertArrayEquals(ref, readAll("/r"));
    }

    @Test
    void truncateShrinksAndGrowsWithZeros() throws Exception {
        byte[] data = random(2 * BLOCK + 100, 4);
        writeFile("/t", data);
        vfs.truncate("/t", BLOCK + 10);
        assertArrayEquals(Arrays.copyOf(data, BLOCK + 10), readAll("/t"));
        vfs.truncate("/t", 3L * BLOCK);
        byte[] grown = readAll("/t");
        assertArrayEquals(Arrays.copyOf(data, BLOCK + 10), Arrays.copyOf(grown, BLOCK + 10));
        for (int i = BLOCK + 10; i < grown.length; i++) {
            assertEquals(0, grown[i], "byte " + i);
        }
    }

    @Test
    void appendWritesAtTheEnd() throws Exception {
        writeFile("/a", "abc".getBytes(StandardCharsets.UTF_8));
        long fh = vfs.open("/a", Handle.O_WRONLY | Handle.O_APPEND);
        vfs.write(fh, 0, "def".getBytes(StandardCharsets.UTF_8), 3);
        vfs.release(fh);
        assertEquals("abcdef", new String(readAll("/a"), StandardCharsets.UTF_8));
    }

    @Test
    void openWithTruncEmptiesTheFile() throws Exception {
        writeFile("/o", random(1000, 5));
        long fh = vfs.open("/o", Handle.O_WRONLY | Handle.O_TRUNC);
        vfs.release(fh);
        assertEquals(0, vfs.getattr("/o").size());
    }

    @Test
    void exclusiveCreateOfAnExistingNameFails() throws Exception {
        writeFile("/x", new byte[1]);
        assertEquals(Errno.EEXIST, fails(() -> vfs.create("/x", 0644, RW | Handle.O_CREAT | Handle.O_EXCL, USER)));
    }

    @Test
    void anUnlinkedOpenFileStaysReadableUntilRelease() throws Exception {
        byte[] data = random(BLOCK + 7, 6);
        writeFile("/u", data);
        long fh = vfs.open("/u", 0);
        long ino = vfs.inoOf(fh);
        vfs.unlink("/u");
        assertEquals(Errno.ENOENT, fails(() -> vfs.getattr("/u")));
        byte[] out = new byte[data.length];
        assertEquals(data.length, vfs.read(fh, 0, out, out.length));
        assertArrayEquals(data, out);
        assertEquals(0, vfs.getattr(ino).nlink());
        vfs.release(fh);
        assertEquals(Errno.ENOENT, fails(() -> vfs.getattr(ino)));
    }

    /** The low-level adapter's calls on a file unlinked while open: by inode, with no path to log. */
    @Test
    void anUnlinkedOpenFileIsChangedByInodeWithoutAName() throws Exception {
        vfs.mkdir("/d", 0755, USER);
        writeFile("/d/f", "kept".getBytes(StandardCharsets.UTF_8));
        long fh = vfs.open("/d/f", RW);
        long ino = vfs.inoOf(fh);
        vfs.unlink("/d/f");
        assertEquals(List.of(), vfs.readdir("/d"));
        vfs.chmod(ino, null, 0600);
        vfs.truncate(ino, 2);
        vfs.setxattr(ino, null, "user.k", new byte[] {1}, 0, USER);
        Inode attrs = vfs.getattr(ino);
        assertEquals(0, attrs.nlink(), "an unlinked file has no links");
        assertEquals(0600, attrs.mode() & 07777);
        assertEquals(2, attrs.size());
        assertArrayEquals(new byte[] {1}, vfs.getxattr(ino, null, "user.k"));
        vfs.rmdir("/d");
        vfs.release(fh);
        assertEquals(Errno.ENOENT, fails(() -> vfs.getattr(ino)), "freed at the last release");
    }

    @Test
    void aNamedFileChangedByInodeNeedsItsPathForTheSiteLog() throws Exception {
        writeFile("/f", "x".getBytes(StandardCharsets.UTF_8));
        long ino = vfs.resolve("/f");
        assertEquals(Errno.ENOENT, fails(() -> vfs.chmod(ino, null, 0600)));
        vfs.chmod(ino, "/f", 0600);
        assertEquals(0600, vfs.lookup(Namespace.ROOT, "f").mode() & 07777);
    }

    @Test
    void renamingOverAnOpenTargetKeepsTheOldFileForItsHandles() throws Exception {
        writeFile("/old", "old".getBytes(StandardCharsets.UTF_8));
        writeFile("/new", "new".getBytes(StandardCharsets.UTF_8));
        long fh = vfs.open("/old", RW);
        long oldIno = vfs.getattr("/old").ino();
        vfs.rename("/new", "/old");
        assertEquals("new", new String(readAll("/old"), StandardCharsets.UTF_8));
        byte[] out = new byte[3];
        assertEquals(3, vfs.read(fh, 0, out, 3));
        assertEquals("old", new String(out, StandardCharsets.UTF_8));
        assertEquals(0, vfs.getattr(oldIno).nlink());
        vfs.release(fh);
        assertEquals(Errno.ENOENT, fails(() -> vfs.getattr(oldIno)));
        assertEquals(List.of("old"), vfs.readdir("/").stream().map(DirEntry::name).toList());
    }

    @Test
    void aMinimalAccessAclIsAChmodAndExtendedAclsAreRefused() throws Exception {
        writeFile("/a", new byte[1]);
        vfs.chmod("/a", 02700);
        vfs.setxattr("/a", "system.posix_acl_access", acl(0x01, 7, 0x04, 5, 0x20, 4), 0, USER);
        assertEquals(Inode.S_IFREG | 02754, vfs.getattr("/a").mode(), "permission bits from the ACL, setgid kept");
        assertEquals(Errno.ENODATA, fails(() -> vfs.getxattr("/a", "system.posix_acl_access")), "nothing is stored");
        assertEquals(List.of(), vfs.listxattr("/a"));
        byte[] named = acl(0x01, 7, 0x02, 7, 0x04, 5, 0x10, 7, 0x20, 4);
        assertEquals(Errno.ENOTSUP, fails(() -> vfs.setxattr("/a", "system.posix_acl_access", named, 0, USER)));
        assertEquals(Errno.ENOTSUP, fails(() -> vfs.setxattr("/", "system.posix_acl_default", acl(0x01, 7, 0x04, 5, 0x20, 5), 0, USER)));
        assertEquals(Errno.EINVAL, fails(() -> vfs.setxattr("/a", "system.posix_acl_access", new byte[] {2, 0, 0, 0, 1}, 0, USER)));
        assertEquals(Errno.EPERM, fails(() -> vfs.setxattr("/a", "system.posix_acl_access", acl(0x01, 7, 0x04, 7, 0x20, 7), 0,
                new Caller(2000, 2000))), "only the owner changes permissions");
    }

    /** An ACL in the kernel's xattr form from (tag, permission) pairs. */
    private static byte[] acl(int... tagPerm) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + tagPerm.length / 2 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        for (int i = 0; i < tagPerm.length; i += 2) {
            b.putShort((short) tagPerm[i]).putShort((short) tagPerm[i + 1]).putInt(tagPerm[i] == 0x02 ? 1234 : -1);
        }
        return b.array();
    }

    @Test
    void renameFollowsPosix() throws Exception {
        vfs.mkdir("/d", 0755, USER);
        vfs.mkdir("/d/sub", 0755, USER);
        vfs.mkdir("/e", 0755, USER);
        writeFile("/e/f", new byte[1]);
        vfs.mkdir("/empty", 0755, USER);
        assertEquals(Errno.EINVAL, fails(() -> vfs.rename("/d", "/d/sub/x")));
        assertEquals(Errno.ENOTEMPTY, fails(() -> vfs.rename("/d", "/e")));
        assertEquals(Errno.EISDIR, fails(() -> vfs.rename("/e/f", "/empty")));
        assertEquals(Errno.ENOTDIR, fails(() -> vfs.rename("/empty", "/e/f")));
        long rootLinks = vfs.getattr("/").nlink();
        vfs.rename("/d", "/empty");
        assertEquals(rootLinks - 1, vfs.getattr("/").nlink(), "the replaced directory's link to the root is gone");
        assertTrue(vfs.getattr("/empty/sub").isDir());
        writeFile("/g", "new".getBytes(StandardCharsets.UTF_8));
        vfs.rename("/g", "/e/f");
        assertEquals("new", new String(readAll("/e/f"), StandardCharsets.UTF_8));
        assertEquals(Errno.ENOENT, fails(() -> vfs.getattr("/g")));
    }

    @Test
    void hardLinksShareTheInode() throws Exception {
        writeFile("/h1", "x".getBytes(StandardCharsets.UTF_8));
        vfs.link("/h1", "/h2");
        Inode a = vfs.getattr("/h1");
        assertEquals(a.ino(), vfs.getattr("/h2").ino());
        assertEquals(2, a.nlink());
        vfs.unlink("/h1");
        assertEquals(1, vfs.getattr("/h2").nlink());
        assertEquals("x", new String(readAll("/h2"), StandardCharsets.UTF_8));
        vfs.mkdir("/dir", 0755, USER);
        assertEquals(Errno.EPERM, fails(() -> vfs.link("/dir", "/dir2")));
    }

    @Test
    void directoriesCountLinksAndRefuseToDieNonEmpty() throws Exception {
        vfs.mkdir("/p", 0755, USER);
        vfs.mkdir("/p/c", 0755, USER);
        assertEquals(3, vfs.getattr("/p").nlink());
        assertEquals(Errno.ENOTEMPTY, fails(() -> vfs.rmdir("/p")));
        vfs.rmdir("/p/c");
        assertEquals(2, vfs.getattr("/p").nlink());
        assertEquals(Errno.ENOENT, fails(() -> vfs.rmdir("/nope/x")));
        writeFile("/file", new byte[1]);
        assertEquals(Errno.ENOTDIR, fails(() -> vfs.mkdir("/file/x", 0755, USER)));
        assertEquals(Errno.EISDIR, fails(() -> vfs.unlink("/p")));
    }

    @Test
    void largeDirectoriesListEveryName() throws Exception {
        vfs.mkdir("/big", 0755, USER);
        for (int i = 0; i < 3000; i++) {
            vfs.mknod("/big/n" + i, Inode.S_IFREG | 0644, 0, USER);
        }
        List<DirEntry> list = vfs.readdir("/big");
        assertEquals(3000, list.size());
        assertEquals(3000, list.stream().map(DirEntry::name).distinct().count());
    }

    @Test
    void namesOver255BytesAreTooLong() {
        String name = "/" + "é".repeat(128);
        assertEquals(Errno.ENAMETOOLONG, fails(() -> vfs.mkdir(name, 0755, USER)));
        assertEquals(Errno.ENAMETOOLONG, fails(() -> vfs.getattr(name)));
    }

    @Test
    void symlinksKeepTheirTarget() throws Exception {
        vfs.symlink("../some/where", "/l", USER);
        assertArrayEquals("../some/where".getBytes(StandardCharsets.UTF_8), vfs.readlink("/l"));
        assertTrue(vfs.getattr("/l").isSymlink());
        assertEquals(13, vfs.getattr("/l").size());
        writeFile("/plain", new byte[1]);
        assertEquals(Errno.EINVAL, fails(() -> vfs.readlink("/plain")));
    }

    @Test
    void xattrsHonourCreateAndReplaceFlags() throws Exception {
        writeFile("/x", new byte[1]);
        byte[] v = "1".getBytes(StandardCharsets.UTF_8);
        assertEquals(Errno.ENODATA, fails(() -> vfs.setxattr("/x", "user.a", v, Vfs.XATTR_REPLACE, USER)));
        vfs.setxattr("/x", "user.a", v, Vfs.XATTR_CREATE, USER);
        assertEquals(Errno.EEXIST, fails(() -> vfs.setxattr("/x", "user.a", v, Vfs.XATTR_CREATE, USER)));
        vfs.setxattr("/x", "user.b", new byte[0], 0, USER);
        assertEquals(List.of("user.a", "user.b"), vfs.listxattr("/x"));
        vfs.removexattr("/x", "user.a");
        assertEquals(Errno.ENODATA, fails(() -> vfs.getxattr("/x", "user.a")));
        assertEquals(Errno.ENODATA, fails(() -> vfs.removexattr("/x", "user.a")));
        assertEquals(Errno.E2BIG, fails(() -> vfs.setxattr("/x", "user.big", new byte[70_000], 0, USER)));
    }

    @Test
    void timesFollowPosix() throws Exception {
        vfs.mkdir("/tdir", 0755, USER);
        now += 1000;
        writeFile("/tdir/f", new byte[10]);
        Inode dir = vfs.getattr("/tdir");
        assertEquals(now, dir.mtimeNs(), "creating a name changes the directory's mtime");
        now += 1000;
        vfs.chmod("/tdir/f", 0600);
        Inode f = vfs.getattr("/tdir/f");
        assertEquals(now, f.ctimeNs());
        assertEquals(now - 1000, f.mtimeNs(), "chmod leaves mtime alone");
        vfs.utimens("/tdir/f", 5, Vfs.UTIME_OMIT, 7, 9);
        f = vfs.getattr("/tdir/f");
        assertEquals(7_000_000_009L, f.mtimeNs());
        assertEquals(now - 1000, f.atimeNs(), "UTIME_OMIT keeps atime");
        vfs.utimens("/tdir/f", 0, Vfs.UTIME_NOW, 0, Vfs.UTIME_OMIT);
        assertEquals(now, vfs.getattr("/tdir/f").atimeNs());
    }

    @Test
    void chownWithMinusOneKeepsTheField() throws Exception {
        writeFile("/c", new byte[1]);
        vfs.chown("/c", 1234, -1);
        Inode i = vfs.getattr("/c");
        assertEquals(1234, i.uid());
        assertEquals(1000, i.gid());
    }

    @Test
    void concurrentWritersOfDifferentFilesDoNotInterfere() throws Exception {
        int n = 4;
        Thread[] threads = new Thread[n];
        Exception[] errors = new Exception[n];
        for (int t = 0; t < n; t++) {
            int id = t;
            threads[t] = new Thread(() -> {
                try {
                    writeFile("/w" + id, random(3 * BLOCK + id, 100 + id));
                } catch (Exception e) {
                    errors[id] = e;
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        for (int t = 0; t < n; t++) {
            assertEquals(null, errors[t]);
            assertArrayEquals(random(3 * BLOCK + t, 100 + t), readAll("/w" + t));
        }
    }

    /**
     * The calls that take the kernel's inode with a path (the FUSE adapter's) check, inside the
     * change, that the path still leads to that inode: a name moved meanwhile (by another site) fails
     * with ENOENT and changes nothing, instead of changing whatever the stale path now names.
     */
    @Test
    void changesByInodeAndPathFailWhenThePathNoLongerLeadsThere() throws Exception {
        long a = vfs.mkdir("/a", 0755, USER).ino();
        long b = vfs.mkdir("/b", 0755, USER).ino();
        writeFile("/a/f", new byte[] {1});
        long f = vfs.resolve("/a/f");
        // the kernel's parent is /a, but the path it knows names /b (as after a move it did not hear of)
        assertEquals(Errno.ENOENT, fails(() -> vfs.create(a, "/b/new", 0644, RW | Handle.O_CREAT, USER)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.mkdir(a, "/b/d", 0755, USER)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.mknod(a, "/b/n", Inode.S_IFREG | 0644, 0, USER)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.symlink("t", a, "/b/s", USER)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.unlink(b, "/a/f")));
        assertEquals(Errno.ENOENT, fails(() -> vfs.rename(b, "/a/f", b, "/b/g")));
        assertEquals(Errno.ENOENT, fails(() -> vfs.rename(a, "/a/f", a, "/b/g")));
        assertEquals(Errno.ENOENT, fails(() -> vfs.link(b, "/a/f", b, "/b/h")));
        assertEquals(Errno.ENOENT, fails(() -> vfs.chmod(b, "/a/f", 0600)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.chown(b, "/a/f", 5, 5)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.utimens(b, "/a/f", 1, 0, 1, 0)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.setxattr(b, "/a/f", "user.x", new byte[] {1}, 0, USER)));
        assertEquals(Errno.ENOENT, fails(() -> vfs.chmod(f, "/", 0600)));
        assertEquals(List.of("f"), vfs.readdir("/a").stream().map(DirEntry::name).toList());
        assertTrue(vfs.readdir("/b").isEmpty());
        assertEquals(0644, vfs.getattr(f).mode() & 07777);
        assertEquals(Errno.ENODATA, fails(() -> vfs.getxattr(f, "/a/f", "user.x")));
        assertEquals(Errno.ENOENT, fails(() -> vfs.rmdir(b, "/a")));
        assertEquals(a, vfs.resolve("/a"));

        // with the right inodes each of them works
        vfs.release(vfs.create(b, "/b/new", 0644, RW | Handle.O_CREAT, USER));
        vfs.mkdir(b, "/b/d", 0755, USER);
        vfs.symlink("t", b, "/b/s", USER);
        vfs.link(f, "/a/f", b, "/b/h");
        vfs.chmod(f, "/b/h", 0600);
        vfs.rename(a, "/a/f", b, "/b/g");
        vfs.unlink(b, "/b/g");
        vfs.rmdir(b, "/b/d");
        vfs.rmdir(Namespace.ROOT, "/a");
        assertEquals(List.of("h", "new", "s"), vfs.readdir("/b").stream().map(DirEntry::name).toList());
        assertEquals(0600, vfs.getattr(f).mode() & 07777);
        assertEquals(1, vfs.getattr(f).nlink());
    }
}
