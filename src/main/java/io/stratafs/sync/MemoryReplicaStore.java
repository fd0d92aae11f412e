package io.stratafs.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A replica's state in memory: for tests, the simulation, and as the reference the LMDB store must
 * behave like. Records are immutable, so {@link #copy} copies the maps and shares the records.
 */
public final class MemoryReplicaStore implements ReplicaStore {
    private record NameKey(String name, OpId edge) implements Comparable<NameKey> {
        @Override
        public int compareTo(NameKey o) {
            int c = name.compareTo(o.name);
            return c != 0 ? c : edge.compareTo(o.edge);
        }
    }

    private final Map<OpId, NodeRecord> nodes;
    private final Map<OpId, EdgeRecord> edges;
    private final Map<OpId, TreeSet<NameKey>> byParent;
    private final Map<OpId, TreeSet<OpId>> byNode;
    private final NavigableMap<OpId, MoveRecord> moves;
    private final NavigableMap<Long, Envelope> own;
    private final Map<String, Long> cursors;
    private long clock;

    public MemoryReplicaStore() {
        this(new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>(), new TreeMap<>(), new TreeMap<>(),
                new TreeMap<>(), 0);
    }

    private MemoryReplicaStore(Map<OpId, NodeRecord> nodes, Map<OpId, EdgeRecord> edges,
                               Map<OpId, TreeSet<NameKey>> byParent, Map<OpId, TreeSet<OpId>> byNode,
                               NavigableMap<OpId, MoveRecord> moves, NavigableMap<Long, Envelope> own,
                               Map<String, Long> cursors, long clock) {
        this.nodes = nodes;
        this.edges = edges;
        this.byParent = byParent;
        this.byNode = byNode;
        this.moves = moves;
        this.own = own;
        this.cursors = cursors;
        this.clock = clock;
    }

    @Override
    public void transaction(Runnable body) {
        body.run();
    }

    @Override
    public NodeRecord node(OpId id) {
        return nodes.get(id);
    }

    @Override
    public void putNode(NodeRecord node) {
        nodes.put(node.id(), node);
    }

    @Override
    public EdgeRecord edge(OpId id) {
        return edges.get(id);
    }

    @Override
    public void putEdge(EdgeRecord edge) {
        EdgeRecord old = edges.put(edge.id(), edge);
        if (old != null) {
            TreeSet<NameKey> siblings = byParent.get(old.placement().parent());
            siblings.remove(new NameKey(old.placement().name(), old.id()));
            if (siblings.isEmpty()) {
                byParent.remove(old.placement().parent());
            }
        }
        byParent.computeIfAbsent(edge.placement().parent(), p -> new TreeSet<>())
                .add(new NameKey(edge.placement().name(), edge.id()));
        byNode.computeIfAbsent(edge.node(), n -> new TreeSet<>()).add(edge.id());
    }

    @Override
    public List<EdgeRecord> children(OpId parent) {
        List<EdgeRecord> out = new ArrayList<>();
        for (NameKey k : byParent.getOrDefault(parent, new TreeSet<>())) {
            out.add(edges.get(k.edge()));
        }
        return out;
    }

    @Override
    public List<EdgeRecord> childrenNamed(OpId parent, String name) {
        List<EdgeRecord> out = new ArrayList<>();
        TreeSet<NameKey> all = byParent.get(parent);
        if (all != null) {
            // Names never hold a NUL, so name + NUL sorts right after every key of this name.
            for (NameKey k : all.subSet(new NameKey(name, OpId.ROOT), true, new NameKey(name + "\0", OpId.ROOT), false)) {
                out.add(edges.get(k.edge()));
            }
        }
        return out;
    }

    @Override
    public boolean hasChildren(OpId parent) {
        return byParent.containsKey(parent);
    }

    @Override
    public List<EdgeRecord> edgesOf(OpId node) {
        List<EdgeRecord> out = new ArrayList<>();
        for (OpId id : byNode.getOrDefault(node, new TreeSet<>())) {
            out.add(edges.get(id));
        }
        return out;
    }

    @Override
    public void putMove(MoveRecord move) {
        moves.put(move.id(), move);
    }

    @Override
    public List<MoveRecord> movesAfter(OpId id) {
        return new ArrayList<>(moves.tailMap(id, false).values());
    }

    @Override
    public void appendOwn(Envelope envelope) {
        long expected = own.isEmpty() ? 1 : own.lastKey() + 1;
        if (envelope.seq() != expected) {
            throw new IllegalStateException("own log position " + envelope.seq() + " appended where " + expected
                    + " was expected");
        }
        own.put(envelope.seq(), envelope);
    }

    @Override
    public List<Envelope> ownLog(long afterSeq) {
        return new ArrayList<>(own.tailMap(afterSeq, false).values());
    }

    @Override
    public Map<String, Long> cursors() {
        return new TreeMap<>(cursors);
    }

    @Override
    public void putCursor(String site, long seq) {
        cursors.put(site, seq);
    }

    @Override
    public long clock() {
        return clock;
    }

    @Override
    public void putClock(long stamp) {
        clock = stamp;
    }

    @Override
    public ReplicaStore copy() {
        Map<OpId, TreeSet<NameKey>> parents = new HashMap<>();
        byParent.forEach((k, v) -> parents.put(k, new TreeSet<>(v)));
        Map<OpId, TreeSet<OpId>> owners = new HashMap<>();
        byNode.forEach((k, v) -> owners.put(k, new TreeSet<>(v)));
        return new MemoryReplicaStore(new HashMap<>(nodes), new HashMap<>(edges), parents, owners,
                new TreeMap<>(moves), new TreeMap<>(own), new TreeMap<>(cursors), clock);
    }
}
