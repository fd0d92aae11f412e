package io.stratafs.sync;

import static io.stratafs.sync.Sites.DIR;
import static io.stratafs.sync.Sites.FILE;
import static io.stratafs.sync.Sites.content;
import static io.stratafs.sync.Sites.deliver;
import static io.stratafs.sync.Sites.exchange;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * One test per rule of the replicated namespace and per conflict case of issue 8: each lets sites
 * act concurrently, delivers their logs in every order (Sites.converge), and checks the one tree
 * they all present against the tree the rule prescribes.
 */
class ReplicaTest {
    private final Sites sites = new Sites();
    private final Replica a = sites.site("A", "2026-11-30T10:14:00Z");
    private final Replica b = sites.site("B", "2026-11-30T10:14:30Z");

    private static Set<String> paths(Tree t) {
        return t.entries().keySet();
    }

    private static Tree.Entry at(Tree t, String path) {
        Tree.Entry e = t.entries().get(path);
        assertTrue(e != null, path + " is not in the tree:\n" + t);
        return e;
    }

    private static void assertContent(Manifest expected, Tree.Entry e) {
        assertEquals(expected, e.content(), "content differs: " + e);
    }

    private void sharedFile(String path) throws SyncException {
        a.create(path, FILE, 1000, 1000, 0, null);
        exchange(a, b);
    }

    @Test
    void concurrentWritesKeepBothAndNameTheCopyFromTheLosersSiteAndTime() throws Exception {
        sharedFile("/report.txt");
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/report.txt", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/report.txt", content("a"), 2);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/report.txt", "/report.conflict-B-20261130T101500Z.txt"), paths(t));
        assertContent(content("a"), at(t, "/report.txt"));
        Tree.Entry copy = at(t, "/report.conflict-B-20261130T101500Z.txt");
        assertContent(content("b"), copy);
        assertTrue(copy.conflictCopy());
        assertEquals(0100444, copy.mode(), "a conflict copy is read-only");
        assertEquals(at(t, "/report.txt").node(), copy.node());
        assertEquals(1, copy.mtimeNs());
    }

    @Test
    void threeConcurrentWritesGiveTwoCopiesNamedFromTheOriginalNeverACopyOfACopy() throws Exception {
        Replica c = sites.site("C", "2026-11-30T10:14:40Z");
        a.create("/report.txt", FILE, 0, 0, 0, null);
        exchange(a, b, c);
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/report.txt", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/report.txt", content("a"), 2);
        sites.at("C", "2026-11-30T10:17:00Z");
        c.write("/report.txt", content("c"), 3);

        Tree t = sites.converge(a, b, c);

        assertEquals(Set.of("/", "/report.txt", "/report.conflict-A-20261130T101600Z.txt",
                "/report.conflict-B-20261130T101500Z.txt"), paths(t));
        assertContent(content("c"), at(t, "/report.txt"));
        assertContent(content("a"), at(t, "/report.conflict-A-20261130T101600Z.txt"));
        assertContent(content("b"), at(t, "/report.conflict-B-20261130T101500Z.txt"));
    }

    @Test
    void aVersionThatHasSeenTheSiblingMakesTheConflictCopyDisappearEverywhere() throws Exception {
        sharedFile("/report.txt");
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/report.txt", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/report.txt", content("a"), 2);
        exchange(a, b);
        sites.at("B", "2026-11-30T10:18:00Z");
        b.write("/report.txt", content("merged"), 3);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/report.txt"), paths(t));
        assertContent(content("merged"), at(t, "/report.txt"));
    }

    @Test
    void discardingAConflictCopyKeepsTheWinnerAndRemovesTheCopyEverywhere() throws Exception {
        sharedFile("/report.txt");
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/report.txt", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/report.txt", content("a"), 2);
        exchange(a, b);
        b.discardConflictCopy("/report.conflict-B-20261130T101500Z.txt");

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/report.txt"), paths(t));
        assertContent(content("a"), at(t, "/report.txt"));
        assertEquals(2, at(t, "/report.txt").mtimeNs());
        assertEquals(SyncException.Kind.EINVAL,
                assertThrows(SyncException.class, () -> a.discardConflictCopy("/report.txt")).kind());
    }

    @Test
    void removingAConflictCopyDiscardsItAndRenamingItKeepsItAsAFile() throws Exception {
        Replica c = sites.site("C", "2026-11-30T10:14:40Z");
        a.create("/r.txt", FILE, 0, 0, 0, null);
        exchange(a, b, c);
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/r.txt", content("b"), 1);
        sites.at("C", "2026-11-30T10:15:30Z");
        c.write("/r.txt", content("c"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/r.txt", content("a"), 2);
        exchange(a, b, c);
        a.remove("/r.conflict-B-20261130T101500Z.txt");
        a.rename("/r.conflict-C-20261130T101530Z.txt", "/kept.txt");

        Tree t = sites.converge(a, b, c);

        assertEquals(Set.of("/", "/r.txt", "/kept.txt"), paths(t));
        assertContent(content("a"), at(t, "/r.txt"));
        assertContent(content("c"), at(t, "/kept.txt"));
        assertFalse(at(t, "/kept.txt").conflictCopy());
        assertNotEquals(at(t, "/r.txt").node(), at(t, "/kept.txt").node());
    }

    @Test
    void aConflictCopyRefusesWritesAttributesAndLinks() throws Exception {
        sharedFile("/r.txt");
        b.write("/r.txt", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/r.txt", content("a"), 2);
        exchange(a, b);
        String copy = a.list("/").stream().filter(n -> n.contains("conflict")).findFirst().orElseThrow();
        String path = "/" + copy;
        assertEquals(SyncException.Kind.EROFS, assertThrows(SyncException.class,
                () -> a.write(path, content("x"), 3)).kind());
        assertEquals(SyncException.Kind.EROFS, assertThrows(SyncException.class,
                () -> a.setAttr(path, Op.SetAttr.MODE, 0777, 0, 0, 0, 0)).kind());
        assertEquals(SyncException.Kind.EROFS, assertThrows(SyncException.class,
                () -> a.setXattr(path, "user.x", new byte[] {1})).kind());
        assertEquals(SyncException.Kind.EROFS, assertThrows(SyncException.class,
                () -> a.link(path, "/l")).kind());
        assertEquals(SyncException.Kind.EEXIST, assertThrows(SyncException.class,
                () -> a.rename(path, "/r.txt")).kind());
    }

    @Test
    void aWriteConcurrentWithADeleteSurvivesIt() throws Exception {
        sharedFile("/f");
        a.remove("/f");
        b.write("/f", content("kept"), 5);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/f"), paths(t));
        assertContent(content("kept"), at(t, "/f"));
    }

    @Test
    void aDeleteAfterSeeingTheWriteRemovesTheFile() throws Exception {
        sharedFile("/f");
        b.write("/f", content("x"), 5);
        exchange(a, b);
        a.remove("/f");

        assertEquals(Set.of("/"), paths(sites.converge(a, b)));
    }

    @Test
    void aMoveConcurrentWithADeleteSurvivesIt() throws Exception {
        sharedFile("/f");
        a.remove("/f");
        b.rename("/f", "/g");

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/g"), paths(t));
    }

    @Test
    void aDirectoryRemovedWhileAFileIsCreatedInsideItSurvivesWithTheFile() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        exchange(a, b);
        a.remove("/d");
        b.create("/d/x", FILE, 0, 0, 0, null);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/d", "/d/x"), paths(t));
    }

    @Test
    void aDirectoryRemovedWhileADirectoryIsMovedIntoItSurvives() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        a.create("/e", DIR, 0, 0, 0, null);
        exchange(a, b);
        a.remove("/d");
        b.rename("/e", "/d/e");

        assertEquals(Set.of("/", "/d", "/d/e"), paths(sites.converge(a, b)));
    }

    @Test
    void recursiveDeleteAgainstAWriteDeepInsideKeepsThePathToTheWrite() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        a.create("/d/e", DIR, 0, 0, 0, null);
        a.create("/d/e/f", FILE, 0, 0, 0, null);
        a.create("/d/g", FILE, 0, 0, 0, null);
        exchange(a, b);
        a.remove("/d/e/f");
        a.remove("/d/e");
        a.remove("/d/g");
        a.remove("/d");
        b.write("/d/e/f", content("late"), 9);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/d", "/d/e", "/d/e/f"), paths(t));
    }

    @Test
    void concurrentRenamesOfOneFileGiveTheLaterRenameEverywhere() throws Exception {
        sharedFile("/f");
        sites.at("A", "2026-11-30T10:20:00Z");
        a.rename("/f", "/by-a");
        sites.at("B", "2026-11-30T10:21:00Z");
        b.rename("/f", "/by-b");

        assertEquals(Set.of("/", "/by-b"), paths(sites.converge(a, b)));
    }

    @Test
    void concurrentRenamesOfOneDirectoryGiveTheLaterRenameEverywhere() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        a.create("/d/x", FILE, 0, 0, 0, null);
        a.create("/p", DIR, 0, 0, 0, null);
        exchange(a, b);
        sites.at("A", "2026-11-30T10:21:00Z");
        a.rename("/d", "/p/by-a");
        sites.at("B", "2026-11-30T10:20:00Z");
        b.rename("/d", "/by-b");

        assertEquals(Set.of("/", "/p", "/p/by-a", "/p/by-a/x"), paths(sites.converge(a, b)));
    }

    @Test
    void movingAIntoBWhileBMovesIntoAMakesNoCycleAndOneResult() throws Exception {
        a.create("/a", DIR, 0, 0, 0, null);
        a.create("/b", DIR, 0, 0, 0, null);
        exchange(a, b);
        sites.at("A", "2026-11-30T10:20:00Z");
        a.rename("/a", "/b/a");
        sites.at("B", "2026-11-30T10:21:00Z");
        b.rename("/b", "/a/b");

        // The earlier move (A's) takes effect; B's would put b inside itself and is skipped.
        assertEquals(Set.of("/", "/b", "/b/a"), paths(sites.converge(a, b)));
    }

    @Test
    void anOldMoveArrivingLateIsPutInItsPlaceAndLaterMovesAreRedone() throws Exception {
        Replica c = sites.site("C", "2026-11-30T10:14:50Z");
        a.create("/a", DIR, 0, 0, 0, null);
        a.create("/b", DIR, 0, 0, 0, null);
        a.create("/c", DIR, 0, 0, 0, null);
        exchange(a, b, c);
        sites.at("A", "2026-11-30T10:20:00Z");
        a.rename("/a", "/b/a");
        sites.at("B", "2026-11-30T10:21:00Z");
        b.rename("/b", "/c/b");
        sites.at("C", "2026-11-30T10:22:00Z");
        c.rename("/c", "/a/c");

        // In OpId order: a into b, b into c, then c into a would close the cycle a-b-c and is skipped.
        assertEquals(Set.of("/", "/c", "/c/b", "/c/b/a"), paths(sites.converge(a, b, c)));
    }

    @Test
    void twoDirectoriesCreatedAtOneNameMergeAndListBothChildren() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        a.create("/d/x", FILE, 0, 0, 0, null);
        b.create("/d", DIR, 0, 0, 0, null);
        b.create("/d/y", FILE, 0, 0, 0, null);
        b.create("/d/s", DIR, 0, 0, 0, null);
        a.create("/d/s", DIR, 0, 0, 0, null);
        a.create("/d/s/z", FILE, 0, 0, 0, null);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/d", "/d/x", "/d/y", "/d/s", "/d/s/z"), paths(t));
        assertEquals(3, at(t, "/d").nlink(), "the merged subdirectory s counts once");
        assertEquals(3, at(t, "/").nlink());
        Envelope created = a.create("/d/new", FILE, 0, 0, 0, null);
        assertEquals(at(t, "/d").node(), ((Op.Create) created.op()).parent(), "creates go to the winner");
        a.rename("/d", "/moved");
        assertEquals(Set.of("/", "/moved", "/moved/x", "/moved/y", "/moved/s", "/moved/s/z", "/moved/new"),
                paths(sites.converge(a, b)), "a rename moves every merged directory");
        a.remove("/moved/new");
        a.remove("/moved/x");
        b.remove("/moved/y");
        exchange(a, b);
        a.remove("/moved/s/z");
        a.remove("/moved/s");
        a.remove("/moved");
        assertEquals(Set.of("/"), paths(sites.converge(a, b)), "rmdir removes every merged directory");
    }

    @Test
    void twoFilesCreatedAtOneNameAreBothKeptTheEarlierUnderAConflictName() throws Exception {
        sites.at("B", "2026-11-30T10:15:00Z");
        b.create("/n", FILE, 0, 0, 0, null);
        b.write("/n", content("b"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.create("/n", FILE, 0, 0, 0, null);
        a.write("/n", content("a"), 2);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/n", "/n.conflict-B-20261130T101500Z"), paths(t));
        assertContent(content("a"), at(t, "/n"));
        assertContent(content("b"), at(t, "/n.conflict-B-20261130T101500Z"));
        assertFalse(at(t, "/n.conflict-B-20261130T101500Z").conflictCopy(), "it is a file of its own");
    }

    @Test
    void aFileAndADirectoryAtOneNameAreBothKeptTheDirectoryAtTheName() throws Exception {
        sites.at("B", "2026-11-30T10:15:00Z");
        b.create("/n.d", DIR, 0, 0, 0, null);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.create("/n.d", FILE, 0, 0, 0, null);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/n.d", "/n.conflict-A-20261130T101600Z.d"), paths(t));
        assertEquals(DIR, at(t, "/n.d").mode());
        assertEquals(FILE, at(t, "/n.conflict-A-20261130T101600Z.d").mode());
    }

    @Test
    void aConflictNameAlreadyTakenGetsANumberAfterTheTime() throws Exception {
        sites.at("B", "2026-11-30T10:15:00Z");
        b.create("/n", FILE, 0, 0, 0, null);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.create("/n", FILE, 0, 0, 0, null);
        a.create("/n.conflict-B-20261130T101500Z", FILE, 0, 0, 0, null);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/n", "/n.conflict-B-20261130T101500Z", "/n.conflict-B-20261130T101500Z-2"),
                paths(t));
        assertNotEquals(at(t, "/n.conflict-B-20261130T101500Z").node(),
                at(t, "/n.conflict-B-20261130T101500Z-2").node());
    }

    @Test
    void attributeRacesAreSettledPerAttributeByTheLaterWriter() throws Exception {
        sharedFile("/f");
        sites.at("B", "2026-11-30T10:15:00Z");
        b.setAttr("/f", Op.SetAttr.MODE | Op.SetAttr.UID, 0600, 7, 0, 0, 0);
        b.setAttr("/f", Op.SetAttr.ATIME | Op.SetAttr.MTIME, 0, 0, 0, 111, 222);
        b.setXattr("/f", "user.both", new byte[] {'b'});
        b.setXattr("/f", "user.b", new byte[] {'b'});
        sites.at("A", "2026-11-30T10:16:00Z");
        a.setAttr("/f", Op.SetAttr.MODE | Op.SetAttr.GID, 0640, 0, 9, 0, 0);
        a.setAttr("/f", Op.SetAttr.MTIME, 0, 0, 0, 0, 333);
        a.setXattr("/f", "user.both", new byte[] {'a'});
        a.setXattr("/f", "user.b", null);

        Tree.Entry f = at(sites.converge(a, b), "/f");

        assertEquals(0100640, f.mode());
        assertEquals(7, f.uid(), "only B set the owner");
        assertEquals(9, f.gid(), "only A set the group");
        assertEquals(111, f.atimeNs());
        assertEquals(333, f.mtimeNs());
        assertEquals(Set.of("user.both"), f.xattrs().keySet(), "A's later removal of user.b wins");
        assertArrayEquals(new byte[] {'a'}, f.xattrs().get("user.both"));
        assertEquals(Instant.parse("2026-11-30T10:16:00Z").toEpochMilli() * 1_000_000, f.ctimeNs());
    }

    @Test
    void hardLinksShareOneNodeCountTheirNamesAndSurviveUnlinkingOne() throws Exception {
        sharedFile("/f");
        a.create("/d", DIR, 0, 0, 0, null);
        a.link("/f", "/d/g");
        b.write("/f", content("x"), 4);

        Tree t = sites.converge(a, b);
        assertEquals(2, at(t, "/f").nlink());
        assertEquals(at(t, "/f"), at(t, "/d/g"));
        assertContent(content("x"), at(t, "/d/g"));

        b.remove("/f");
        t = sites.converge(a, b);
        assertEquals(Set.of("/", "/d", "/d/g"), paths(t));
        assertEquals(1, at(t, "/d/g").nlink());
        assertEquals(SyncException.Kind.EPERM, assertThrows(SyncException.class, () -> a.link("/d", "/e")).kind());
    }

    @Test
    void renameReplacingAFileAgainstAConcurrentWriteToItKeepsBoth() throws Exception {
        a.create("/old", FILE, 0, 0, 0, null);
        a.create("/new", FILE, 0, 0, 0, null);
        exchange(a, b);
        sites.at("A", "2026-11-30T10:20:00Z");
        a.rename("/new", "/old");
        sites.at("B", "2026-11-30T10:19:00Z");
        b.write("/old", content("concurrent"), 1);

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/old", "/old.conflict-A-20261130T101400Z"), paths(t));
        assertContent(Manifest.EMPTY, at(t, "/old"));
        assertContent(content("concurrent"), at(t, "/old.conflict-A-20261130T101400Z"));
    }

    @Test
    void renameReplacingAFileWithoutConcurrencyLeavesOneName() throws Exception {
        a.create("/old", FILE, 0, 0, 0, null);
        a.create("/new", FILE, 0, 0, 0, null);
        OpId moved = a.stat("/new").node();
        a.rename("/new", "/old");

        Tree t = sites.converge(a, b);

        assertEquals(Set.of("/", "/old"), paths(t));
        assertEquals(moved, at(t, "/old").node());
    }

    @Test
    void duplicateEnvelopesAreIgnored() throws Exception {
        a.create("/f", FILE, 0, 0, 0, null);
        a.write("/f", content("x"), 1);
        List<Envelope> log = a.log(0);
        deliver(b, log, log, log);
        Tree once = b.tree();
        b.apply(log.get(0));
        assertFalse(b.ready(log.get(1)), "an applied envelope is not ready again");
        assertEquals(once, b.tree());
        assertEquals(2L, b.cursors().get("A"));
        assertEquals(a.tree(), b.tree());
    }

    @Test
    void anEnvelopeIsReadyOnlyAfterItsCauses() throws Exception {
        Replica c = sites.site("C", "2026-11-30T10:14:00Z");
        Envelope dir = a.create("/d", DIR, 0, 0, 0, null);
        deliver(b, a.log(0));
        Envelope inside = b.create("/d/x", FILE, 0, 0, 0, null);

        assertFalse(c.ready(inside), "B's create needs A's mkdir first");
        assertThrows(IllegalArgumentException.class, () -> c.apply(inside));
        Envelope second = a.create("/e", DIR, 0, 0, 0, null);
        assertFalse(c.ready(second), "A's second envelope needs its first");
        assertTrue(c.ready(dir));
        c.apply(dir);
        assertTrue(c.ready(inside));
        c.apply(inside);
        c.apply(second);
        assertEquals(Set.of("/", "/d", "/d/x", "/e"), paths(c.tree()));
    }

    @Test
    void ownChangesLeaveTheClockToTheirLogEntriesAndAReopenedReplicaStillContinuesAfterEveryStampItIssuedOrSaw() throws Exception {
        MemoryReplicaStore store = new MemoryReplicaStore();
        AtomicLong wall = new AtomicLong(Instant.parse("2026-11-30T12:00:00Z").toEpochMilli());
        Replica a = new Replica("A", wall::get, store);
        Envelope own = a.create("/x", FILE, 0, 0, 0, null);
        assertEquals(0, store.clock(), "an own change writes no clock record: its log entry holds the stamp");
        Replica reopened = new Replica("A", () -> wall.get() - 3_600_000, store);
        Envelope afterOwn = reopened.create("/y", FILE, 0, 0, 0, null);
        assertTrue(afterOwn.op().id().after(own.op().id()), "the clock continues after the own log's last stamp");

        Replica b = new Replica("B", () -> wall.get() + 60_000, new MemoryReplicaStore());
        Envelope peer = b.create("/p", FILE, 0, 0, 0, null);
        reopened.apply(peer);
        assertEquals(peer.op().id().hlc(), store.clock(), "a peer's stamp the log does not show is stored");
        Replica again = new Replica("A", wall::get, store);
        Envelope afterPeer = again.create("/z", FILE, 0, 0, 0, null);
        assertTrue(afterPeer.op().id().after(peer.op().id()), "the clock continues after the peer's stamp it observed");
    }

    @Test
    void aRestoreFromAnOlderStateReappliesItsOwnLogAndContinuesWithoutReusingPositionsOrStamps() throws Exception {
        MemoryReplicaStore store = new MemoryReplicaStore();
        AtomicLong wall = new AtomicLong(
                Instant.parse("2026-11-30T12:00:00Z").toEpochMilli());
        Replica before = new Replica("R", wall::get, store);
        before.create("/x", FILE, 0, 0, 0, null);
        ReplicaStore older = store.copy();
        before.create("/y", FILE, 0, 0, 0, null);
        Envelope last = before.write("/y", content("y"), 1);
        List<Envelope> published = before.log(0);

        wall.set(Instant.parse("2026-11-30T09:00:00Z").toEpochMilli());
        Replica restored = new Replica("R", wall::get, older);
        assertEquals(1L, restored.cursors().get("R"));
        deliver(restored, published);
        Envelope next = restored.create("/z", FILE, 0, 0, 0, null);

        assertEquals(4, next.seq());
        assertTrue(next.op().id().after(last.op().id()), "the clock continues after its own published stamps");
        assertEquals(4, restored.log(0).size());
        deliver(b, published, List.of(next));
        assertEquals(restored.tree(), b.tree());
        assertEquals(Set.of("/", "/x", "/y", "/z"), paths(b.tree()));
    }

    @Test
    void posixRefusalsNameTheProblem() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        a.create("/d/f", FILE, 0, 0, 0, null);
        assertEquals(SyncException.Kind.EEXIST, assertThrows(SyncException.class,
                () -> a.create("/d", DIR, 0, 0, 0, null)).kind());
        assertEquals(SyncException.Kind.ENOENT, assertThrows(SyncException.class,
                () -> a.create("/none/f", FILE, 0, 0, 0, null)).kind());
        assertEquals(SyncException.Kind.ENOTDIR, assertThrows(SyncException.class,
                () -> a.create("/d/f/g", FILE, 0, 0, 0, null)).kind());
        assertEquals(SyncException.Kind.ENOTEMPTY, assertThrows(SyncException.class, () -> a.remove("/d")).kind());
        assertEquals(SyncException.Kind.EINVAL, assertThrows(SyncException.class, () -> a.rename("/d", "/d/e")).kind());
        assertEquals(SyncException.Kind.EISDIR, assertThrows(SyncException.class,
                () -> a.write("/d", content("x"), 1)).kind());
        assertEquals(SyncException.Kind.EISDIR, assertThrows(SyncException.class, () -> a.rename("/d/f", "/d")).kind());
        a.create("/e", DIR, 0, 0, 0, null);
        a.create("/e/x", FILE, 0, 0, 0, null);
        assertEquals(SyncException.Kind.ENOTEMPTY, assertThrows(SyncException.class, () -> a.rename("/d", "/e")).kind());
        assertEquals(SyncException.Kind.ENOTDIR, assertThrows(SyncException.class, () -> a.rename("/e", "/d/f")).kind());
        assertEquals(SyncException.Kind.EINVAL, assertThrows(SyncException.class,
                () -> a.create("relative", FILE, 0, 0, 0, null)).kind());
        assertEquals(SyncException.Kind.EINVAL, assertThrows(SyncException.class,
                () -> a.create("/l", 0120777, 0, 0, 0, null)).kind());
        assertEquals(SyncException.Kind.EINVAL, assertThrows(SyncException.class, () -> a.remove("/")).kind());
        assertNull(a.stat("/d/f").symlinkTarget());
    }

    @Test
    void aBatchOfRemovalsIsCountedAgainstTheNamesShown() throws Exception {
        for (String f : List.of("/1", "/2", "/3", "/4")) {
            a.create(f, FILE, 0, 0, 0, null);
        }
        a.create("/d", DIR, 0, 0, 0, null);
        exchange(a, b);
        long seen = a.log(0).size();
        a.remove("/1");
        a.remove("/2");
        a.rename("/3", "/4");
        a.create("/5", FILE, 0, 0, 0, null);
        a.remove("/5");

        List<Envelope> batch = a.log(seen);
        assertEquals(3, b.removals(batch), "1 and 2 removed, 4 replaced; 5 was never shown at B");
        assertEquals(5, b.liveNames());
        deliver(b, batch);
        assertEquals(2, b.liveNames());
    }

    @Test
    void aMalformedEnvelopeIsRefusedAndChangesNothing() throws Exception {
        a.create("/d", DIR, 0, 0, 0, null);
        exchange(a, b);
        OpId dir = a.stat("/d").node();
        Tree before = b.tree();
        Envelope writeToDir = new Envelope("C", 1, Map.of("A", 1L),
                new Op.Write(new OpId(Long.MAX_VALUE >>> 1, "C"), dir, VersionVector.EMPTY.increment("C"),
                        content("x"), 1));
        Envelope unknownParent = new Envelope("C", 1, Map.of(),
                new Op.Create(new OpId(5, "C"), new OpId(4, "Z"), "f", FILE, 0, 0, 0, null));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.apply(writeToDir));
        assertTrue(e.getMessage().contains("only a regular file has content"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.apply(unknownParent));
        assertEquals(before, b.tree());
        assertNull(b.cursors().get("C"));
        assertEquals(SyncException.Kind.EINVAL, assertThrows(SyncException.class,
                () -> a.create("/nul\0byte", FILE, 0, 0, 0, null)).kind());
    }

    @Test
    void twoSitesDiscardingEachOthersCopyAtOnceKeepBothResultsAndLoseNoOtherVersion() throws Exception {
        Replica c = sites.site("C", "2026-11-30T10:14:40Z");
        b.create("/f", FILE, 0, 0, 0, null);
        exchange(a, b, c);
        sites.at("B", "2026-11-30T10:15:00Z");
        b.write("/f", content("b"), 1);
        sites.at("C", "2026-11-30T10:15:30Z");
        c.write("/f", content("c"), 1);
        sites.at("A", "2026-11-30T10:16:00Z");
        a.write("/f", content("a"), 1);
        exchange(a, b, c);
        sites.at("B", "2026-11-30T10:17:00Z");
        b.discardConflictCopy("/f.conflict-C-20261130T101530Z");
        sites.at("C", "2026-11-30T10:18:00Z");
        c.discardConflictCopy("/f.conflict-B-20261130T101500Z");

        Tree t = sites.converge(a, b, c);

        // Each discard saw the winner and one sibling, not the other's discard: both stay, both hold A's content.
        assertEquals(Set.of("/", "/f", "/f.conflict-B-20261130T101700Z"), paths(t));
        assertContent(content("a"), at(t, "/f"));
        assertContent(content("a"), at(t, "/f.conflict-B-20261130T101700Z"));
    }
}
