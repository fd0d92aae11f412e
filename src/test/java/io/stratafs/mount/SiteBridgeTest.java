package io.stratafs.mount;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.cache.BlockCache;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.journal.PeerCursors;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.LmdbKv;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.Op;
import io.stratafs.sync.Replica;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.KernelCache;
import io.stratafs.vfs.Vfs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sites, each a VFS over its own LMDB with the bridge logging every change to its replica;
 * envelopes are handed from one site's log to the other's {@link SiteBridge#apply} by the test (the
 * daemon's part), and the namespaces the two VFSs serve are compared entry by entry: names, types,
 * modes, owners, sizes, link counts, file mtimes, contents, symlink targets and xattrs.
 */
class SiteBridgeTest {
    private static final Caller USER = new Caller(1000, 1000);
    private static final int BLOCK = 4096;
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 01;
    private static final int O_TRUNC = 01000;

    @TempDir
    Path dir;

    /** The storage both sites' blocks reach (the block copier's part, done by {@link #deliver}). */
    private final MemoryStore shared = new MemoryStore();
    private final AtomicLong wall = new AtomicLong(1_790_000_000_000L);
    private final List<Site> sites = new ArrayList<>();

    private final class Site {
        final String name;
        final LmdbKv kv;
        final BlockCache cache;
        final Vfs vfs;
        final Replica replica;
        final SiteBridge bridge;

        Site(String name) {
            this.name = name;
            kv = new LmdbKv(dir.resolve("cache-" + name), 256L << 20);
            cache = new BlockCache(kv, List.of(shared), 64L << 20, 8L << 20);
            vfs = new Vfs(kv, cache, BLOCK, () -> wall.get() * 1_000_000L, () -> new FsStats(1L << 40, 1L << 39, 0));
            vfs.initRoot(USER);
            LmdbReplicaStore store = new LmdbReplicaStore(kv, new PeerCursors());
            replica = new Replica(name, wall::get, store);
            bridge = new SiteBridge(kv, store, replica, vfs, cache);
            vfs.logTo(bridge);
            sites.add(this);
        }

        void write(String path, String text) throws FsException {
            long fh = vfs.create(path, 0644, O_WRONLY | O_TRUNC, USER);
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            vfs.write(fh, 0, b, b.length);
            vfs.release(fh);
        }

        String read(String path) throws FsException {
            long fh = vfs.open(path, O_RDONLY);
            try {
                return readHandle(fh);
            } finally {
                vfs.release(fh);
            }
        }

        String readHandle(long fh) throws FsException {
            byte[] buf = new byte[1 << 16];
            int n = vfs.read(fh, 0, buf, buf.length);
            return new String(buf, 0, Math.max(0, n), StandardCharsets.UTF_8);
        }

        long applied(String peer) {
            return replica.cursors().getOrDefault(peer, 0L);
        }
    }

    @AfterEach
    void close() {
        for (Site s : sites) {
            s.bridge.close();
            s.vfs.close();
            s.cache.close();
            s.kv.close();
        }
    }

    /** Hands {@code to} everything {@code from} logged that it has not applied, with the blocks its Writes name. */
    private void deliver(Site from, Site to) throws Exception {
        List<Envelope> batch = from.replica.log(to.applied(from.name));
        for (Envelope e : batch) {
            if (e.op() instanceof Op.Write w) {
                for (Manifest.Block b : w.content().blocks()) {
                    shared.put(ObjectKeys.block(Bytes.hex(b.ref().hash())), from.cache.get(b.ref()));
                }
            }
        }
        if (!batch.isEmpty()) {
            synchronized (to.replica) {
                to.bridge.apply(batch);
            }
        }
    }

    private void exchange(Site a, Site b) throws Exception {
        deliver(a, b);
        deliver(b, a);
        deliver(a, b);
    }

    /** Everything a user can observe of the namespace, by path (directory times left out: they are per site). */
    private static Map<String, String> snapshot(Site s) throws Exception {
        Map<String, String> out = new TreeMap<>();
        walk(s, "/", out);
        return out;
    }

    private static void walk(Site s, String path, Map<String, String> out) throws Exception {
        Inode i = s.vfs.getattr(path);
        StringBuilder d = new StringBuilder(String.format("mode=%o uid=%d gid=%d nlink=%d", i.mode(), i.uid(), i.gid(), i.nlink()));
        if (i.isRegular()) {
            d.append(" size=").append(i.size()).append(" mtime=").append(i.mtimeNs()).append(" data=").append(s.read(path));
        } else if (i.isSymlink()) {
            d.append(" -> ").append(new String(s.vfs.readlink(path), StandardCharsets.UTF_8));
        }
        for (String x : s.vfs.listxattr(path)) {
            d.append(' ').append(x).append('=').append(new String(s.vfs.getxattr(path, x), StandardCharsets.UTF_8));
        }
        out.put(path, d.toString());
        if (i.isDir()) {
            for (DirEntry e : s.vfs.readdir(path)) {
                walk(s, path.equals("/") ? "/" + e.name() : path + "/" + e.name(), out);
            }
        }
    }

    private static void assertSame(Site a, Site b) throws Exception {
        assertEquals(snapshot(a), snapshot(b));
        assertEquals(a.bridge.digest(), b.bridge.digest());
    }

    /**
     * A name this site creates, or whose attributes or xattrs it changes, is recorded from the
     * operation and the node alone (no second look up of the path in the replica): the record must
     * be the one the replica's listing gives, for every kind of node, at any depth, inside a
     * directory merged from two sites, and for a file with concurrent versions.
     */
    @Test
    void aLocalChangeIsRecordedAsTheReplicaShowsIt() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/same", 0755, USER);
        b.vfs.mkdir("/same", 0700, USER);
        deliver(a, b);
        deliver(b, a);
        a.vfs.mkdir("/same/dir", 0755, USER);
        a.write("/same/dir/file", "text");
        long open = a.vfs.create("/same/empty", 0600, O_WRONLY, USER);
        a.vfs.symlink("dir/file", "/same/link", USER);
        a.vfs.mknod("/same/fifo", Inode.S_IFIFO | 0644, 0, USER);
        a.vfs.mkdir("/top", 0755, USER);
        List<String> all = List.of("/same", "/same/dir", "/same/dir/file", "/same/empty", "/same/link", "/same/fifo", "/top");
        assertRecordedAsShown(a, all);
        a.vfs.chmod("/same/dir/file", 0600);
        a.vfs.utimens("/same/fifo", 100, 0, 200, 0);
        a.vfs.setxattr("/same/empty", "user.tag", "red".getBytes(StandardCharsets.UTF_8), 0, USER);
        a.vfs.chown("/same/link", 1234, 5678);
        a.vfs.chmod("/same", 0750);
        a.vfs.chmod("/top", 0700);
        assertRecordedAsShown(a, all);
        a.vfs.release(open);
        deliver(a, b);
        assertSame(a, b);
        a.write("/same/dir/file", "local");
        b.write("/same/dir/file", "peer");
        deliver(a, b);
        deliver(b, a);
        a.vfs.chmod("/same/dir/file", 0640);
        a.vfs.removexattr("/same/empty", "user.tag");
        assertRecordedAsShown(a, all);
    }

    private static void assertRecordedAsShown(Site site, List<String> paths) throws FsException {
        for (String path : paths) {
            SiteBridge.Mapped recorded = site.bridge.mappingOf(site.vfs.resolve(path));
            SiteBridge.Mapped shown = site.bridge.shownMapping(path);
            assertArrayEquals(shown.key(), recorded.key(), path + ": key");
            assertEquals(shown.version(), recorded.version(), path + ": version");
            assertEquals(shown.vv(), recorded.vv(), path + ": version vector");
            assertEquals(shown.synced(), recorded.synced(), path + ": last change");
        }
    }

    /** The peer applies the file's creation and its second name in one batch, into a directory it already shows. */
    @Test
    void aFileAndItsHardLinkArrivingInOneBatchAreOneInodeAtThePeer() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/link", 0755, USER);
        deliver(a, b);
        a.write("/link/f", "shared");
        a.vfs.link("/link/f", "/link/g");
        deliver(a, b);
        assertSame(a, b);
        assertEquals(b.vfs.resolve("/link/f"), b.vfs.resolve("/link/g"), "the two names are one inode at B");
    }

    @Test
    void everyKindOfChangeReachesThePeer() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/docs", 0755, USER);
        a.vfs.mkdir("/docs/deep", 0700, USER);
        a.write("/docs/report.txt", "first draft");
        a.write("/docs/deep/notes.txt", "notes");
        a.vfs.symlink("report.txt", "/docs/latest", USER);
        a.vfs.link("/docs/report.txt", "/docs/report-link.txt");
        a.vfs.setxattr("/docs/report.txt", "user.tag", "blue".getBytes(StandardCharsets.UTF_8), 0, USER);
        a.vfs.chmod("/docs/report.txt", 0600);
        a.vfs.mknod("/fifo", Inode.S_IFIFO | 0644, 0, USER);
        deliver(a, b);
        assertSame(a, b);
        assertEquals("first draft", b.read("/docs/report-link.txt"));
        assertEquals(2, b.vfs.getattr("/docs/report.txt").nlink());

        a.vfs.rename("/docs/deep", "/deep-moved");
        a.vfs.truncate("/docs/report.txt", 5);
        a.vfs.utimens("/docs/report.txt", 100, 0, 200, 0);
        a.vfs.removexattr("/docs/report.txt", "user.tag");
        a.vfs.unlink("/docs/report-link.txt");
        a.vfs.chown("/fifo", 1234, 5678);
        long movedBefore = b.vfs.resolve("/docs/deep");
        deliver(a, b);
        assertSame(a, b);
        assertEquals(movedBefore, b.vfs.resolve("/deep-moved"), "a moved directory keeps its inode at the peer");
        assertEquals("first", b.read("/docs/report.txt"));
        assertEquals(200_000_000_000L, b.vfs.getattr("/docs/report.txt").mtimeNs());

        a.vfs.unlink("/deep-moved/notes.txt");
        a.vfs.rmdir("/deep-moved");
        a.vfs.unlink("/docs/latest");
        deliver(a, b);
        assertSame(a, b);
        assertThrows(FsException.class, () -> b.vfs.resolve("/deep-moved"));
    }

    @Test
    void changesFlowBothWaysAndConverge() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/shared", 0755, USER);
        deliver(a, b);
        b.write("/shared/from-b.txt", "hello from B");
        a.write("/shared/from-a.txt", "hello from A");
        exchange(a, b);
        assertSame(a, b);
        assertEquals("hello from B", a.read("/shared/from-b.txt"));
    }

    @Test
    void concurrentWritesKeepBothVersionsAtBothSites() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/report.txt", "base");
        deliver(a, b);
        a.write("/report.txt", "edited at A");
        wall.addAndGet(1000);
        b.write("/report.txt", "edited at B");
        exchange(a, b);
        assertSame(a, b);
        List<String> names = new ArrayList<>();
        for (DirEntry e : a.vfs.readdir("/")) {
            names.add(e.name());
        }
        assertEquals(2, names.size(), names.toString());
        String copy = names.stream().filter(n -> n.contains(".conflict-")).findFirst().orElseThrow();
        assertTrue(copy.matches("report\\.conflict-A-\\d{8}T\\d{6}Z\\.txt"), copy);
        assertEquals("edited at B", a.read("/report.txt"), "the later write keeps the path");
        assertEquals("edited at A", a.read("/" + copy));
    }

    @Test
    void deleteAgainstConcurrentModificationKeepsTheModification() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/keep.txt", "v1");
        deliver(a, b);
        a.vfs.unlink("/keep.txt");
        b.write("/keep.txt", "v2 at B");
        exchange(a, b);
        assertSame(a, b);
        assertEquals("v2 at B", a.read("/keep.txt"));
    }

    @Test
    void sameNewDirectoryAtBothSitesMerges() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/projects", 0755, USER);
        a.write("/projects/a.txt", "a");
        b.vfs.mkdir("/projects", 0755, USER);
        b.write("/projects/b.txt", "b");
        exchange(a, b);
        assertSame(a, b);
        assertEquals(2, a.vfs.readdir("/projects").size());
        assertEquals(1, a.vfs.readdir("/").size());
    }

    @Test
    void anOpenFileKeepsItsContentUntilItsLastClose() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/doc.txt", "old content");
        deliver(a, b);
        long reading = b.vfs.open("/doc.txt", O_RDONLY);
        a.write("/doc.txt", "new content, longer");
        deliver(a, b);
        assertEquals("old content", b.readHandle(reading), "an open handle never sees a mix of versions");
        b.vfs.release(reading);
        assertEquals("new content, longer", b.read("/doc.txt"));
        assertSame(a, b);
    }

    @Test
    void aLocalWriteWhileAPeerVersionArrivesBecomesAConflictNotALoss() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/db.txt", "base");
        deliver(a, b);
        long writing = b.vfs.open("/db.txt", O_WRONLY);
        byte[] mine = "B's edit".getBytes(StandardCharsets.UTF_8);
        b.vfs.write(writing, 0, mine, mine.length);
        b.vfs.flush(writing);
        a.write("/db.txt", "A's edit");
        deliver(a, b);
        b.vfs.release(writing);
        exchange(a, b);
        assertSame(a, b);
        List<String> contents = new ArrayList<>();
        for (DirEntry e : a.vfs.readdir("/")) {
            contents.add(a.read("/" + e.name()));
        }
        contents.sort(null);
        assertEquals(List.of("A's edit", "B's edit"), contents);
    }

    @Test
    void deletingAConflictCopyDiscardsItEverywhereAndRenamingKeepsIt() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/x.txt", "base");
        a.write("/y.txt", "base");
        deliver(a, b);
        a.write("/x.txt", "A");
        a.write("/y.txt", "A");
        wall.addAndGet(1000);
        b.write("/x.txt", "B");
        b.write("/y.txt", "B");
        exchange(a, b);
        String copyX = null;
        String copyY = null;
        for (DirEntry e : b.vfs.readdir("/")) {
            if (e.name().startsWith("x.conflict-")) {
                copyX = e.name();
            } else if (e.name().startsWith("y.conflict-")) {
                copyY = e.name();
            }
        }
        b.vfs.unlink("/" + copyX);
        b.vfs.rename("/" + copyY, "/y-from-a.txt");
        exchange(a, b);
        assertSame(a, b);
        assertEquals(3, a.vfs.readdir("/").size());
        assertEquals("A", a.read("/y-from-a.txt"));
        FsException e = assertThrows(FsException.class, () -> a.vfs.resolve("/" + "x.conflict-none"));
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void aRemovedTreeGoesAtThePeerAndAFileMovedOutOfItStays() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/old", 0755, USER);
        a.vfs.mkdir("/old/sub", 0755, USER);
        a.write("/old/sub/keep.txt", "keep me");
        a.write("/old/sub/drop.txt", "drop me");
        deliver(a, b);
        a.vfs.rename("/old/sub/keep.txt", "/keep.txt");
        a.vfs.unlink("/old/sub/drop.txt");
        a.vfs.rmdir("/old/sub");
        a.vfs.rmdir("/old");
        deliver(a, b);
        assertSame(a, b);
        assertEquals("keep me", b.read("/keep.txt"));
        assertEquals(1, b.vfs.readdir("/").size());
        assertEquals(0, b.vfs.removeOrphans(), "no inode is left without a name");
    }

    @Test
    void aDirectoryRemovedAtOneSiteWhileAFileIsCreatedInItAtTheOtherComesBackWithTheFile() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.vfs.mkdir("/team", 0755, USER);
        a.vfs.mkdir("/team/plans", 0755, USER);
        a.write("/team/plans/old.txt", "old");
        deliver(a, b);
        a.vfs.unlink("/team/plans/old.txt");
        a.vfs.rmdir("/team/plans");
        a.vfs.rmdir("/team");
        b.write("/team/plans/new.txt", "created while A removed the tree");
        deliver(a, b);
        deliver(b, a);
        assertSame(a, b);
        assertEquals("created while A removed the tree", a.read("/team/plans/new.txt"));
        assertEquals(1, a.vfs.readdir("/team/plans").size());
    }

    @Test
    void aNamespaceMadeBeforeSitesIsLoggedOnceAndReachesAPeer() throws Exception {
        Site a = new Site("A");
        a.vfs.logTo(io.stratafs.vfs.NamespaceLog.NONE);
        a.vfs.mkdir("/old", 0750, USER);
        a.write("/old/file.txt", "written before sites");
        a.vfs.link("/old/file.txt", "/old/again.txt");
        a.vfs.symlink("file.txt", "/old/sym", USER);
        a.vfs.setxattr("/old/file.txt", "user.k", "v".getBytes(StandardCharsets.UTF_8), 0, USER);
        a.vfs.logTo(a.bridge);
        assertEquals(4, a.bridge.importNamespace());
        assertEquals(0, a.bridge.importNamespace(), "a second import logs nothing");
        Site b = new Site("B");
        deliver(a, b);
        assertSame(a, b);
        a.write("/old/file.txt", "changed after the import");
        deliver(a, b);
        assertEquals("changed after the import", b.read("/old/again.txt"));
    }

    /** Found by ConcurrentModelIT: a write after an unlink of another name of the file brought that name back. */
    @Test
    void aWriteAfterRemovingOneNameOfAHardLinkedFileDoesNotBringTheNameBack() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/one", "v1");
        a.vfs.link("/one", "/two");
        a.vfs.unlink("/two");
        a.write("/one", "v2, written after /two was removed");
        FsException gone = assertThrows(FsException.class, () -> a.vfs.resolve("/two"));
        assertEquals(Errno.ENOENT, gone.errno());
        assertEquals(1, a.vfs.getattr("/one").nlink());
        assertEquals(List.of("one"), a.replica.list("/"));
        deliver(a, b);
        assertSame(a, b);
    }

    /** Found by SitesConflictIT: an earlier chmod from a peer arriving after a later local touch was not shown. */
    @Test
    void anEarlierAttributeChangeArrivingAfterALaterOneIsShownToo() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        a.write("/f", "x");
        deliver(a, b);
        a.vfs.chmod("/f", 0600);
        wall.addAndGet(1000);
        b.vfs.utimens("/f", 0, 0, 1_000, 0);
        exchange(a, b);
        assertSame(a, b);
        assertEquals(0600, b.vfs.getattr("/f").mode() & 07777);
        assertEquals(1_000_000_000_000L, a.vfs.getattr("/f").mtimeNs());
    }

    /** While changes are refused (a restored cache catching up), content written to an open file waits, logged later. */
    @Test
    void contentWrittenWhileChangesAreRefusedIsLoggedOnceTheyAreAccepted() throws Exception {
        Site a = new Site("A");
        a.write("/f", "v1");
        long logged = a.replica.log(0).size();
        a.bridge.refuseChanges("catching up");
        long fh = a.vfs.open("/f", O_WRONLY);
        byte[] v2 = "v2".getBytes(StandardCharsets.UTF_8);
        a.vfs.write(fh, 0, v2, v2.length);
        a.vfs.release(fh);
        assertEquals(logged, a.replica.log(0).size(), "nothing is logged while changes are refused");
        a.bridge.refuseChanges(null);
        assertEquals(1, a.bridge.settleAll());
        Site b = new Site("B");
        deliver(a, b);
        assertEquals("v2", b.read("/f"));
    }

    /** What the bridge told a kernel, in order: {@code entry PARENT NAME} or {@code inode INO}. */
    private static final class RecordingKernel implements KernelCache {
        final List<String> told = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void entryChanged(long parent, String name) {
            told.add("entry " + parent + " " + name);
        }

        @Override
        public void inodeChanged(long ino) {
            told.add("inode " + ino);
        }
    }

    @Test
    void aPeersChangesAreAnnouncedToTheKernelAndLocalOnesAreNot() throws Exception {
        Site a = new Site("A");
        Site b = new Site("B");
        RecordingKernel kernel = new RecordingKernel();
        b.bridge.tellKernel(kernel);
        a.vfs.mkdir("/d", 0755, USER);
        a.write("/d/x", "first");
        deliver(a, b);
        long d = b.vfs.resolve("/d");
        long x = b.vfs.resolve("/d/x");
        b.bridge.awaitAnnounced();
        assertTrue(kernel.told.contains("entry " + d + " x"), "a new name is announced: " + kernel.told);

        kernel.told.clear();
        b.vfs.chmod("/d/x", 0600);
        b.write("/d/local", "mine");
        b.bridge.awaitAnnounced();
        assertEquals(List.of(), kernel.told, "what this mount's kernel did itself is not announced");
        exchange(a, b);
        kernel.told.clear();

        a.vfs.chmod("/d/x", 0640);
        deliver(a, b);
        b.bridge.awaitAnnounced();
        assertTrue(kernel.told.contains("inode " + x), "a peer's chmod makes the inode's attributes stale: " + kernel.told);

        kernel.told.clear();
        a.write("/d/x", "second, longer");
        deliver(a, b);
        b.bridge.awaitAnnounced();
        assertTrue(kernel.told.contains("inode " + x), "a peer's new content makes the inode stale: " + kernel.told);

        kernel.told.clear();
        a.vfs.rename("/d/x", "/d/y");
        deliver(a, b);
        b.bridge.awaitAnnounced();
        assertTrue(kernel.told.containsAll(List.of("entry " + d + " x", "entry " + d + " y")),
                "a peer's rename makes both names stale: " + kernel.told);
        assertEquals(x, b.vfs.resolve("/d/y"), "the moved file keeps its inode");
    }

    @Test
    void theDaemonIsNudgedOncePerLoggedChangeAfterItsTransactionEnded() throws Exception {
        Site a = new Site("A");
        a.vfs.mkdir("/d", 0755, USER);
        List<Long> logAtNudge = new ArrayList<>();
        // what another thread's transaction sees when nudged: the publisher must find the change
        a.bridge.onLocalChange(() -> logAtNudge.add((long) a.replica.log(0).size()));
        a.write("/d/x", "x");
        a.vfs.unlink("/d/x");
        a.vfs.rmdir("/d");
        assertThrows(FsException.class, () -> a.vfs.unlink("/d/missing"), "a refused change logs nothing");
        long logged = a.replica.log(0).size();
        assertEquals(logged, logAtNudge.get(logAtNudge.size() - 1), "the last nudge sees every change committed");
        for (int i = 1; i < logAtNudge.size(); i++) {
            assertTrue(logAtNudge.get(i) > logAtNudge.get(i - 1), "each nudge follows a new logged change: " + logAtNudge);
        }
        assertTrue(logAtNudge.size() >= 3, "create, unlink and rmdir each nudge: " + logAtNudge);
    }
}
