package io.stratafs.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stratafs.meta.BlockRef;
import io.stratafs.sync.EdgeRecord;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.MoveRecord;
import io.stratafs.sync.NodeRecord;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Placement;
import io.stratafs.sync.Register;
import io.stratafs.sync.VersionVector;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The replica's records as docs/FORMAT.md ("Replica state") lays them out: fixtures written by the
 * first encoder (DataOutputStream) must decode to the same records and encode to the same bytes,
 * so state written by older mounts stays readable; site and file names outside ASCII included.
 */
class ReplicaRecordsTest {
    private static final OpId NODE = new OpId(0x0102030405060708L, "site-a");
    private static final OpId OTHER = new OpId(0x1112131415161718L, "sité-b\u00e9\u4e2d\uD83D\uDE00");

    static NodeRecord fileNode() {
        TreeMap<String, Register<byte[]>> xattrs = new TreeMap<>();
        xattrs.put("user.tag", new Register<>(new byte[] {1, 2, 3}, OTHER));
        xattrs.put("user.gone", new Register<>(null, NODE));
        byte[] hash = new byte[32];
        for (int i = 0; i < hash.length; i++) {
            hash[i] = (byte) (i * 7);
        }
        Manifest content = new Manifest(5000, List.of(new Manifest.Block(0, new BlockRef(hash, 4096)),
                new Manifest.Block(1, new BlockRef(hash, 904))));
        VersionVector vv = new VersionVector(new TreeMap<>(Map.of("site-a", 3L, OTHER.site(), 1L)));
        return new NodeRecord(NODE, 0100000, 0, null, new Register<>(0644, NODE), new Register<>(1000, OTHER),
                new Register<>(100, NODE), new Register<>(11L, NODE), new Register<>(22L, OTHER), xattrs,
                List.of(new NodeRecord.Version(OTHER, vv, content, 33L)), OTHER);
    }

    static NodeRecord symlinkNode() {
        return new NodeRecord(OTHER, 0120000, 7, "t\u00e4rget".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                new Register<>(0777, OTHER), new Register<>(0, OpId.ROOT), new Register<>(0, OTHER),
                new Register<>(0L, OTHER), new Register<>(-1L, OTHER), new TreeMap<>(), List.of(), OTHER);
    }

    static EdgeRecord removedEdge() {
        return new EdgeRecord(OTHER, NODE, new Placement(OpId.ROOT, "n\u00e4me\u0000x", NODE),
                new EdgeRecord.Removal(NODE, new VersionVector(Map.of("site-a", 2L))));
    }

    static EdgeRecord liveEdge() {
        return new EdgeRecord(NODE, NODE, new Placement(OTHER, "plain", NODE), null);
    }

    static EdgeRecord removedDirEdge() {
        return new EdgeRecord(NODE, NODE, new Placement(OTHER, "d", NODE), new EdgeRecord.Removal(NODE, null));
    }

    static MoveRecord move() {
        return new MoveRecord(OTHER, NODE, new Placement(NODE, "to", OTHER), new Placement(OpId.ROOT, "from", NODE), true);
    }

    static MoveRecord firstMove() {
        return new MoveRecord(NODE, OTHER, new Placement(NODE, "to", NODE), null, false);
    }

    /** Written by the first encoder (java.io.DataOutputStream, modified UTF-8 strings) for the records above. */
    private static final String FILE =
            "0101020304050607080006736974652d6100008000000000000000000000000001a401020304050607080006736974652d61000003e811121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb8800000006401020304050607080006736974652d61000000000000000b01020304050607080006736974652d61000000000000001611121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880000000020009757365722e676f6e650001020304050607080006736974652d610008757365722e746167010000000301020311121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb8800000000111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880000000020006736974652d6100000000000000030012736974c3a92d62c3a9e4b8adeda0bdedb8800000000000000001000000000000138800000002000000000000000000070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d900001000000000000000000100070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d900000388000000000000002111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880";
    private static final String SYMLINK =
            "0111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb8800000a0000000000000000007010000000774c3a472676574000001ff11121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb88000000000000000000000000000000000000011121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880000000000000000011121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880ffffffffffffffff11121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880000000000000000011121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb880";
    private static final String REMOVED =
            "0111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb88001020304050607080006736974652d610000000000000000000000086ec3a46d65c0807801020304050607080006736974652d610101020304050607080006736974652d6101000000010006736974652d610000000000000002";
    private static final String LIVE =
            "0101020304050607080006736974652d6101020304050607080006736974652d6111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb8800005706c61696e01020304050607080006736974652d6100";
    private static final String REMOVEDDIR =
            "0101020304050607080006736974652d6101020304050607080006736974652d6111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb88000016401020304050607080006736974652d610101020304050607080006736974652d6100";
    private static final String MOVE =
            "0111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb88001020304050607080006736974652d6101020304050607080006736974652d610002746f11121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb8800100000000000000000000000466726f6d01020304050607080006736974652d6101";
    private static final String FIRSTMOVE =
            "0101020304050607080006736974652d6111121314151617180012736974c3a92d62c3a9e4b8adeda0bdedb88001020304050607080006736974652d610002746f01020304050607080006736974652d610000";

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h);
    }

    @Test
    void recordsEncodeToTheBytesTheFirstEncoderWrote() {
        assertArrayEquals(hex(FILE), ReplicaRecords.encode(fileNode()));
        assertArrayEquals(hex(SYMLINK), ReplicaRecords.encode(symlinkNode()));
        assertArrayEquals(hex(REMOVED), ReplicaRecords.encode(removedEdge()));
        assertArrayEquals(hex(LIVE), ReplicaRecords.encode(liveEdge()));
        assertArrayEquals(hex(REMOVEDDIR), ReplicaRecords.encode(removedDirEdge()));
        assertArrayEquals(hex(MOVE), ReplicaRecords.encode(move()));
        assertArrayEquals(hex(FIRSTMOVE), ReplicaRecords.encode(firstMove()));
    }

    @Test
    void recordsTheFirstEncoderWroteDecodeToTheSameRecords() {
        NodeRecord file = ReplicaRecords.node(hex(FILE));
        NodeRecord want = fileNode();
        assertEquals(want.id(), file.id());
        assertEquals(want.perm(), file.perm());
        assertEquals(want.uid(), file.uid());
        assertEquals(want.mtimeNs(), file.mtimeNs());
        assertEquals(want.touched(), file.touched());
        assertEquals(want.versions().get(0).vv(), file.versions().get(0).vv());
        assertEquals(want.versions().get(0).content().size(), file.versions().get(0).content().size());
        assertArrayEquals(want.versions().get(0).content().blocks().get(1).ref().hash(),
                file.versions().get(0).content().blocks().get(1).ref().hash());
        assertArrayEquals(new byte[] {1, 2, 3}, file.xattrs().get("user.tag").value());
        assertNull(file.xattrs().get("user.gone").value());
        NodeRecord link = ReplicaRecords.node(hex(SYMLINK));
        assertArrayEquals(symlinkNode().symlinkTarget(), link.symlinkTarget());
        assertEquals(OTHER, link.id());
        assertEquals(removedEdge(), ReplicaRecords.edge(hex(REMOVED)));
        assertEquals(liveEdge(), ReplicaRecords.edge(hex(LIVE)));
        assertEquals(removedDirEdge(), ReplicaRecords.edge(hex(REMOVEDDIR)));
        assertEquals(move(), ReplicaRecords.move(hex(MOVE)));
        assertEquals(firstMove(), ReplicaRecords.move(hex(FIRSTMOVE)));
        for (String f : List.of(FILE, SYMLINK)) {
            assertArrayEquals(hex(f), ReplicaRecords.encode(ReplicaRecords.node(hex(f))));
        }
    }

    @Test
    void aTruncatedOrOverlongRecordIsRefusedWithASentence() {
        byte[] edge = hex(LIVE);
        IllegalStateException shortOne = assertThrows(IllegalStateException.class,
                () -> ReplicaRecords.edge(java.util.Arrays.copyOf(edge, edge.length - 3)));
        assertEquals(true, shortOne.getMessage().contains("edge record"), shortOne.getMessage());
        IllegalStateException longOne = assertThrows(IllegalStateException.class,
                () -> ReplicaRecords.edge(java.util.Arrays.copyOf(edge, edge.length + 2)));
        assertEquals(true, longOne.getMessage().contains("too many"), longOne.getMessage());
        byte[] future = edge.clone();
        future[0] = 2;
        assertThrows(IllegalStateException.class, () -> ReplicaRecords.edge(future));
    }
}
