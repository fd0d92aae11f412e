package io.stratafs.ops;

import static io.stratafs.ops.VolumeFixture.all;
import static io.stratafs.ops.VolumeFixture.bytes;
import static io.stratafs.ops.VolumeFixture.checkpoint;
import static io.stratafs.ops.VolumeFixture.file;
import static io.stratafs.ops.VolumeFixture.hex;
import static io.stratafs.ops.VolumeFixture.putBlocks;
import static io.stratafs.ops.VolumeFixture.root;
import static io.stratafs.ops.VolumeFixture.segment;
import static io.stratafs.ops.VolumeFixture.unlink;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.store.ForwardingStore;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import io.stratafs.store.TrashedBlocks;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** gc's reference walk, its age rule, its retention of history, and the race with a write in flight. */
class GcTest {
    private static final long HOUR = 3_600_000L;
    private static final byte[] KEPT = bytes("the block of a file that stays");
    private static final byte[] GONE = bytes("the block of a file that was deleted");

    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private MemoryStore store;

    @BeforeEach
    void volumeWithOneDeletedFile() throws StoreException {
        store = new MemoryStore(now::get);
        VolumeFixture.format(store);
        putBlocks(store, KEPT, GONE);
        segment(store, "main", 1, root(), file(2, "kept", KEPT), file(3, "gone", GONE), unlink(3, "gone", 1));
    }

    private Gc.Result gc(long minAge, boolean dryRun, Gc.BeforeRemove hook, ObjectStore... targets) throws StoreException {
        return new Gc(VolumeTargets.open(List.of(targets)), minAge, dryRun, now::get, Progress.NONE, hook).run();
    }

    private Gc.Result gc(long minAge, ObjectStore... targets) throws StoreException {
        return gc(minAge, false, (t, k) -> { }, targets);
    }

    static ObjectStore named(ObjectStore inner, String name) {
        return new ForwardingStore(inner) {
            @Override
            public String describe() {
                return name;
            }
        };
    }

    @Test
    void anUnreferencedBlockGoesToTrashOnceOldEnoughAndIsDeletedAMinAgeLater() throws Exception {
        now.addAndGet(HOUR / 2);
        assertTrue(gc(HOUR, store).actions().isEmpty(), "half an hour old: too young to touch");
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));

        now.addAndGet(HOUR);
        Gc.Result first = gc(HOUR, store);
        assertEquals(1, first.trashed());
        assertEquals(0, first.freedBytes());
        assertFalse(store.exists(ObjectKeys.block(hex(GONE))));
        assertTrue(store.exists(ObjectKeys.trashedBlock(hex(GONE))));
        assertTrue(store.exists(ObjectKeys.block(hex(KEPT))));

        now.addAndGet(HOUR / 2);
        assertEquals(0, gc(HOUR, store).freedBytes(), "in the trash for half an hour only");

        now.addAndGet(HOUR);
        Gc.Result second = gc(HOUR, store);
        assertEquals(GONE.length, second.freedBytes());
        assertFalse(store.exists(ObjectKeys.trashedBlock(hex(GONE))));
        assertArrayEquals(KEPT, store.get(ObjectKeys.block(hex(KEPT))));
    }

    @Test
    void minAgeZeroFreesInOneRunAndDryRunChangesNothing() throws Exception {
        Gc.Result dry = gc(0, true, (t, k) -> { }, store);
        assertEquals(List.of("would delete " + ObjectKeys.block(hex(GONE))),
                dry.actions().stream().map(a -> a.verb() + " " + a.key()).toList());
        assertEquals(GONE.length, dry.freedBytes());
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));

        Gc.Result real = gc(0, store);
        assertEquals(GONE.length, real.freedBytes());
        assertEquals(List.of(ObjectKeys.block(hex(KEPT)), ObjectKeys.VOLUME),
                store.list("").stream().filter(k -> !k.startsWith("journal/")).toList());
    }

    @Test
    void historyBeforeTheNewestCheckpointGoesAndTheNamespaceStaysWhole() throws Exception {
        byte[] later = bytes("written after the checkpoint");
        putBlocks(store, later);
        checkpoint(store, "main", 1, root());
        checkpoint(store, "main", 4, all(root(), file(2, "kept", KEPT)));
        segment(store, "main", 5, file(4, "later", later));
        Gc.Result r = gc(0, store);
        assertEquals(List.of("checkpoint/main/0000000000000001", "journal/main/0000000000000001-0000000000000004"),
                r.actions().stream().filter(a -> a.verb().equals("deleted") && !a.key().startsWith("trash/")).map(Gc.Action::key).sorted().toList());
        assertEquals(List.of("checkpoint/main/0000000000000004", "journal/main/0000000000000005-0000000000000005"),
                store.list("").stream().filter(k -> k.startsWith("checkpoint/") || k.startsWith("journal/")).toList());
        try (SiteNamespace ns = SiteNamespace.restore(store, "main")) {
            assertEquals(List.of(), ns.shapeProblems());
            java.util.Map<String, Integer> blocks = new java.util.TreeMap<>();
            ns.collectBlocks(blocks);
            assertEquals(java.util.Set.of(hex(KEPT), hex(later)), blocks.keySet());
        }
        assertTrue(store.exists(ObjectKeys.block(hex(later))));
    }

    @Test
    void aBlockOnlyAnotherSiteReferencesIsKept() throws Exception {
        segment(store, "paris", 1, root(), file(2, "theirs", GONE));
        assertEquals(0, gc(0, store).freedBytes());
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));
    }

    @Test
    void aBlockOnlyAnotherTargetsJournalReferencesIsKeptInBoth() throws Exception {
        ObjectStore second = named(new MemoryStore(now::get), "memory:second");
        VolumeFixture.format(second);
        // the second target got one record further: the deleted file's content is written again
        putBlocks(second, KEPT, GONE);
        segment(second, "main", 1, root(), file(2, "kept", KEPT), file(3, "gone", GONE), unlink(3, "gone", 1),
                file(4, "again", GONE));
        assertEquals(0, gc(0, store, second).freedBytes());
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));
    }

    @Test
    void refusesWhenATargetDoesNotAnswerOrIsNoVolume() {
        ObjectStore down = new ForwardingStore(new MemoryStore()) {
            @Override
            public String describe() {
                return "memory:down";
            }

            @Override
            public void check() throws StoreException {
                throw new StoreUnavailableException("connection refused by 127.0.0.1:9", null);
            }
        };
        StoreException e = assertThrows(StoreException.class, () -> gc(0, store, down));
        assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
        e = assertThrows(StoreException.class, () -> gc(0, new MemoryStore()));
        assertTrue(e.getMessage().contains("is not a StrataFS volume"), e.getMessage());
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));
    }

    /**
     * The hard case: a mount writes the deleted file's content again. Its cache still holds the block,
     * so it need not upload it; here it re-PUTs it anyway (as a mount that had evicted it would) right
     * between gc's checks and its delete (the seam), and publishes the record naming it only after
     * gc has finished. The block must stay readable, and the next run must put it back.
     */
    @Test
    void aBlockReferencedAgainWhileGcMovesItIsNeverLost() throws Exception {
        now.addAndGet(2 * HOUR);
        Gc.BeforeRemove putAgain = (t, key) -> {
            if (key.equals(ObjectKeys.block(hex(GONE)))) {
                t.put(key, GONE);
            }
        };
        Gc.Result r = gc(HOUR, false, putAgain, store);
        assertEquals(1, r.trashed());
        assertFalse(store.exists(ObjectKeys.block(hex(GONE))), "the delete came after the PUT");
        segment(store, "main", 5, file(5, "again", GONE));

        now.addAndGet(2 * HOUR);
        Gc.Result next = gc(HOUR, store);
        assertEquals(1, next.restored(), "the next run puts back a referenced block rather than deleting it");
        assertEquals(0, next.freedBytes());
        assertArrayEquals(GONE, store.get(ObjectKeys.block(hex(GONE))));
        assertFalse(store.exists(ObjectKeys.trashedBlock(hex(GONE))));
    }

    @Test
    void aReaderFindsAMovedBlockInTheTrashAndPutsItBack() throws Exception {
        now.addAndGet(2 * HOUR);
        gc(HOUR, store);
        segment(store, "main", 5, file(5, "again", GONE));
        assertArrayEquals(GONE, TrashedBlocks.read(store, hex(GONE)));
        assertArrayEquals(GONE, store.get(ObjectKeys.block(hex(GONE))));
    }

    @Test
    void aRecordPublishedWhileGcMovesItsBlockSavesItInTheSameRun() throws Exception {
        now.addAndGet(2 * HOUR);
        Gc.BeforeRemove publish = (t, key) -> {
            if (key.equals(ObjectKeys.block(hex(GONE)))) {
                segment(t, "main", 5, file(5, "again", GONE));
            }
        };
        Gc.Result r = gc(HOUR, false, publish, store);
        assertEquals(1, r.restored());
        assertArrayEquals(GONE, store.get(ObjectKeys.block(hex(GONE))));
        assertFalse(store.exists(ObjectKeys.trashedBlock(hex(GONE))));
    }

    @Test
    void withMinAgeZeroARecordPublishedDuringTheRunStillSavesItsBlock() throws Exception {
        Gc.BeforeRemove writeInFlight = (t, key) -> {
            if (key.equals(ObjectKeys.block(hex(GONE)))) {
                segment(t, "main", 5, file(5, "again", GONE));
            }
        };
        Gc.Result r = gc(0, false, writeInFlight, store);
        assertEquals(0, r.freedBytes());
        assertEquals(1, r.restored());
        assertArrayEquals(GONE, store.get(ObjectKeys.block(hex(GONE))));
    }

    @Test
    void anObjectRewrittenSinceTheListingIsLeftAlone() throws Exception {
        now.addAndGet(2 * HOUR);
        ObjectStore rewritesOnList = new ForwardingStore(store) {
            @Override
            public List<io.stratafs.store.ObjectInfo> listInfo(String prefix) throws StoreException {
                List<io.stratafs.store.ObjectInfo> listed = super.listInfo(prefix);
                if (prefix.equals(ObjectKeys.BLOCKS_PREFIX)) {
                    store.put(ObjectKeys.block(hex(GONE)), GONE);
                }
                return listed;
            }
        };
        assertEquals(0, gc(HOUR, rewritesOnList).trashed(), "the age is looked up again right before the move");
        assertTrue(store.exists(ObjectKeys.block(hex(GONE))));
    }
}
