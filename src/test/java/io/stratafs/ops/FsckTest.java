package io.stratafs.ops;

import static io.stratafs.ops.VolumeFixture.bytes;
import static io.stratafs.ops.VolumeFixture.checkpoint;
import static io.stratafs.ops.VolumeFixture.file;
import static io.stratafs.ops.VolumeFixture.hex;
import static io.stratafs.ops.VolumeFixture.putBlocks;
import static io.stratafs.ops.VolumeFixture.root;
import static io.stratafs.ops.VolumeFixture.segment;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.Mutation;
import io.stratafs.meta.Table;
import io.stratafs.store.MemoryStore;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** fsck's findings on volumes with known damage, and its repairs. */
class FsckTest {
    private static final byte[] A = bytes("first block");
    private static final byte[] B = bytes("second block");
    private MemoryStore first;
    private ObjectStore second;

    @BeforeEach
    void twoTargetsOfOneVolume() throws Exception {
        first = new MemoryStore();
        second = GcTest.named(new MemoryStore(), "memory:second");
        for (ObjectStore t : List.of(first, second)) {
            VolumeFixture.format(t);
            putBlocks(t, A, B);
            segment(t, "main", 1, root(), file(2, "a", A, B));
        }
    }

    private Fsck.Result fsck(boolean repair, java.util.function.Function<byte[], byte[]> local) throws Exception {
        return new Fsck(VolumeTargets.open(List.of(first, second)), repair, local, Progress.NONE).run();
    }

    @Test
    void aHealthyVolumeIsClean() throws Exception {
        Fsck.Result r = fsck(false, null);
        assertEquals(List.of(), r.problems());
        assertEquals(4, r.blocksChecked());
        assertEquals(0, r.exitCode());
    }

    @Test
    void aMissingAndACorruptBlockAreFoundAndRepairedFromTheOtherTarget() throws Exception {
        first.delete(ObjectKeys.block(hex(A)));
        first.corrupt(ObjectKeys.block(hex(B)), bytes("rotten bytes"));
        Fsck.Result found = fsck(false, null);
        assertEquals(2, found.problems().size(), found.problems().toString());
        assertTrue(found.problems().get(0).contains("missing") || found.problems().get(1).contains("missing"));
        assertTrue(String.join(" ", found.problems()).contains("corrupt"));
        assertEquals(1, found.exitCode());
        assertTrue(!first.exists(ObjectKeys.block(hex(A))), "without --repair nothing changes");

        Fsck.Result repaired = fsck(true, null);
        assertEquals(2, repaired.repaired().size());
        assertTrue(repaired.repaired().get(0).contains("repaired from memory:second"), repaired.repaired().toString());
        assertEquals(0, repaired.exitCode());
        assertArrayEquals(A, first.get(ObjectKeys.block(hex(A))));
        assertArrayEquals(B, first.get(ObjectKeys.block(hex(B))));
        assertEquals(List.of(), fsck(false, null).problems());
    }

    @Test
    void aBlockNoTargetHoldsComesFromTheLocalCacheOrIsReportedUnrepaired() throws Exception {
        first.delete(ObjectKeys.block(hex(A)));
        second.delete(ObjectKeys.block(hex(A)));
        Fsck.Result none = fsck(true, hash -> null);
        assertEquals(2, none.unrepaired().size());
        assertEquals(1, none.exitCode());

        Fsck.Result fromCache = fsck(true, hash -> Bytes.hex(hash).equals(hex(A)) ? A.clone() : null);
        assertEquals(2, fromCache.repaired().size());
        assertTrue(fromCache.repaired().get(0).endsWith("repaired from the local cache"));
        assertEquals(0, fromCache.exitCode());
    }

    @Test
    void aTrashedReferencedBlockIsPutBack() throws Exception {
        first.put(ObjectKeys.trashedBlock(hex(A)), A);
        first.delete(ObjectKeys.block(hex(A)));
        second.delete(ObjectKeys.block(hex(A)));
        Fsck.Result r = fsck(true, null);
        assertTrue(r.problems().get(0).contains("a copy is in trash/"), r.problems().toString());
        assertEquals(0, r.exitCode());
        assertArrayEquals(A, second.get(ObjectKeys.block(hex(A))));
    }

    @Test
    void unreachableInodesAndDanglingEntriesAreProblems() throws Exception {
        byte[] orphanDentry = new byte[9];
        Bytes.putLong(orphanDentry, 0, 77);
        segment(first, "main", 3, List.of(
                new Mutation(Table.DENTRY, Bytes.inoKey(1, bytes("a")), null),
                new Mutation(Table.DENTRY, Bytes.inoKey(1, bytes("ghost")), orphanDentry)));
        Fsck.Result r = fsck(false, null);
        String all = String.join("\n", r.problems());
        assertTrue(all.contains("inode 2 is not reachable from the root"), all);
        assertTrue(all.contains("names inode 77, which does not exist"), all);
        assertEquals(1, r.exitCode());
    }

    @Test
    void aGapInTheJournalIsAProblemAndStopsTheReplayOfThatCopy() throws Exception {
        segment(first, "main", 5, root());
        String all = String.join("\n", fsck(false, null).problems());
        assertTrue(all.contains("the journal has no records 3 to 4"), all);
        assertTrue(all.contains("cannot replay site main in memory:"), all);
    }

    @Test
    void aCheckpointWhoseContentDisagreesWithItsNameIsAProblem() throws Exception {
        checkpoint(first, "main", 1, root());
        byte[] cp = first.get(ObjectKeys.checkpoint("main", 1));
        first.put(ObjectKeys.checkpoint("main", 9), cp);
        Fsck.Result r = fsck(false, null);
        assertTrue(String.join("\n", r.problems()).contains("holds the namespace as of record 1, not 9"), r.problems().toString());
    }

    @Test
    void blocksOfEverySiteAreChecked() throws Exception {
        byte[] theirs = bytes("a block of the paris site");
        segment(second, "paris", 1, root(), file(2, "p", theirs));
        putBlocks(second, theirs);
        Fsck.Result r = fsck(false, null);
        assertEquals(6, r.blocksChecked());
        assertTrue(r.problems().get(0).contains("block " + hex(theirs) + " in memory: is missing"), r.problems().toString());
    }
}
