package io.stratafs.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ReplicaStore} must do, run against each implementation (the memory store now,
 * the LMDB store when it comes): records by id, the (parent, name) and node indexes following every
 * placement change, the move log in OpId order, the own log without gaps, cursors, clock, and a copy
 * that shares nothing mutable with the original.
 */
abstract class ReplicaStoreContract {
    abstract ReplicaStore newStore();

    private static OpId id(long hlc, String site) {
        return new OpId(hlc, site);
    }

    private static NodeRecord file(OpId id) {
        return new NodeRecord(id, Modes.S_IFREG, 0, null, new Register<>(0644, id), new Register<>(0, id),
                new Register<>(0, id), new Register<>(0L, id), new Register<>(0L, id), new TreeMap<>(), List.of(), id);
    }

    private static Envelope envelope(long seq) {
        OpId op = id(seq, "S");
        return new Envelope("S", seq, Map.of(), new Op.Create(op, OpId.ROOT, "n" + seq, 0100644, 0, 0, 0, null));
    }

    @Test
    void nodesAndEdgesAreFoundByIdAndUnknownIdsGiveNull() {
        ReplicaStore s = newStore();
        OpId f = id(1, "A");
        assertNull(s.node(f));
        assertNull(s.edge(f));
        s.putNode(file(f));
        s.putEdge(new EdgeRecord(f, f, new Placement(OpId.ROOT, "f", f), null));
        assertEquals(f, s.node(f).id());
        assertEquals("f", s.edge(f).placement().name());
    }

    @Test
    void theParentIndexFollowsEveryPlacementChangeInNameOrder() {
        ReplicaStore s = newStore();
        OpId dir = id(1, "A");
        OpId x = id(2, "A");
        OpId y = id(3, "B");
        s.putEdge(new EdgeRecord(x, x, new Placement(OpId.ROOT, "zz", x), null));
        s.putEdge(new EdgeRecord(y, y, new Placement(OpId.ROOT, "aa", y), null));
        assertEquals(List.of(y, x), s.children(OpId.ROOT).stream().map(EdgeRecord::id).toList());
        assertTrue(s.hasChildren(OpId.ROOT));

        s.putEdge(s.edge(x).withPlacement(new Placement(dir, "moved", id(4, "A"))));
        assertEquals(List.of(y), s.children(OpId.ROOT).stream().map(EdgeRecord::id).toList());
        assertEquals(List.of(x), s.children(dir).stream().map(EdgeRecord::id).toList());
        s.putEdge(s.edge(y).withPlacement(new Placement(dir, "aa", id(5, "A"))));
        assertFalse(s.hasChildren(OpId.ROOT));
        assertTrue(s.children(OpId.ROOT).isEmpty());
    }

    @Test
    void childrenNamedFindsExactlyTheEdgesOfOneNameInIdOrder() {
        ReplicaStore s = newStore();
        OpId x = id(2, "B");
        OpId y = id(2, "A");
        OpId longer = id(1, "A");
        s.putEdge(new EdgeRecord(x, x, new Placement(OpId.ROOT, "n", x), null));
        s.putEdge(new EdgeRecord(y, y, new Placement(OpId.ROOT, "n", y), null));
        s.putEdge(new EdgeRecord(longer, longer, new Placement(OpId.ROOT, "n2", longer), null));
        assertEquals(List.of(y, x), s.childrenNamed(OpId.ROOT, "n").stream().map(EdgeRecord::id).toList());
        assertTrue(s.childrenNamed(OpId.ROOT, "m").isEmpty());
        assertTrue(s.childrenNamed(id(7, "Z"), "n").isEmpty());
        s.putEdge(s.edge(x).withPlacement(new Placement(OpId.ROOT, "other", id(3, "A"))));
        assertEquals(List.of(y), s.childrenNamed(OpId.ROOT, "n").stream().map(EdgeRecord::id).toList());
    }

    @Test
    void edgesOfANodeAreListedInIdOrder() {
        ReplicaStore s = newStore();
        OpId node = id(1, "A");
        OpId link = id(2, "B");
        s.putEdge(new EdgeRecord(link, node, new Placement(OpId.ROOT, "l", link), null));
        s.putEdge(new EdgeRecord(node, node, new Placement(OpId.ROOT, "f", node), null));
        assertEquals(List.of(node, link), s.edgesOf(node).stream().map(EdgeRecord::id).toList());
        assertTrue(s.edgesOf(id(9, "Z")).isEmpty());
    }

    @Test
    void movesAfterAnIdComeInIdOrder() {
        ReplicaStore s = newStore();
        OpId e = id(1, "A");
        Placement p = new Placement(OpId.ROOT, "d", e);
        for (OpId m : List.of(id(5, "A"), id(3, "B"), id(3, "A"), id(7, "C"))) {
            s.putMove(new MoveRecord(m, e, new Placement(OpId.ROOT, "d", m), p, true));
        }
        assertEquals(List.of(id(3, "B"), id(5, "A"), id(7, "C")),
                s.movesAfter(id(3, "A")).stream().map(MoveRecord::id).toList());
        s.putMove(new MoveRecord(id(5, "A"), e, p, p, false));
        assertFalse(s.movesAfter(id(4, "A")).get(0).applied(), "a put replaces the move with the same id");
    }

    @Test
    void theOwnLogIsReadFromAPositionAndRefusesGaps() {
        ReplicaStore s = newStore();
        s.appendOwn(envelope(1));
        s.appendOwn(envelope(2));
        s.appendOwn(envelope(3));
        assertEquals(List.of(2L, 3L), s.ownLog(1).stream().map(Envelope::seq).toList());
        assertThrows(IllegalStateException.class, () -> s.appendOwn(envelope(5)));
    }

    @Test
    void cursorsAndClockAreKept() {
        ReplicaStore s = newStore();
        assertEquals(0, s.clock());
        assertTrue(s.cursors().isEmpty());
        s.putCursor("A", 4);
        s.putCursor("A", 5);
        s.putClock(99);
        assertEquals(Map.of("A", 5L), s.cursors());
        assertEquals(99, s.clock());
    }

    @Test
    void aCopySharesNothingMutableWithTheOriginal() {
        ReplicaStore s = newStore();
        OpId f = id(1, "A");
        s.putNode(file(f));
        s.putEdge(new EdgeRecord(f, f, new Placement(OpId.ROOT, "f", f), null));
        s.appendOwn(envelope(1));
        s.putCursor("S", 1);
        s.putClock(10);
        ReplicaStore copy = s.copy();

        OpId g = id(2, "A");
        s.putEdge(s.edge(f).withPlacement(new Placement(g, "moved", g)));
        s.appendOwn(envelope(2));
        s.putCursor("S", 2);
        s.putClock(20);
        copy.putEdge(new EdgeRecord(g, g, new Placement(OpId.ROOT, "g", g), null));

        assertEquals(List.of(f, g), copy.children(OpId.ROOT).stream().map(EdgeRecord::id).toList());
        assertEquals("f", copy.edge(f).placement().name());
        assertEquals(1, copy.ownLog(0).size());
        assertEquals(Map.of("S", 1L), copy.cursors());
        assertEquals(10, copy.clock());
        assertNull(s.edge(g));
        assertTrue(s.children(OpId.ROOT).isEmpty());
    }

    @Test
    void aTransactionRunsItsBody() {
        ReplicaStore s = newStore();
        s.transaction(() -> s.putClock(7));
        assertEquals(7, s.clock());
    }
}
