package io.stratafs.journal;

import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Table;
import io.stratafs.sync.EdgeRecord;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.MemoryReplicaStore;
import io.stratafs.sync.MoveRecord;
import io.stratafs.sync.NodeRecord;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Placement;
import io.stratafs.sync.ReplicaStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A replica's state in the cache directory's LMDB environment: one table per record kind and index
 * (meta/Table REPLICA_*), the cursors where {@link PeerCursors} keeps them, the clock in LOCAL.
 * {@link #transaction} is one LMDB write transaction, so an applied operation, its cursor and the
 * own log entry commit together or not at all; calls made inside it on the same thread see its
 * changes. Calls outside a transaction each read, or write, in a transaction of their own.
 */
public final class LmdbReplicaStore implements ReplicaStore {
    private static final byte[] CLOCK = "replica.clock".getBytes(StandardCharsets.UTF_8);
    private static final byte[] EMPTY = new byte[0];

    private final Kv kv;
    private final PeerCursors cursors;
    private final ThreadLocal<KvWriteTxn> current = new ThreadLocal<>();
    private final ThreadLocal<KvTxn> reading = new ThreadLocal<>();
    /**
     * Nodes and edges decoded (or put) in the write transaction open on this thread, by id; null
     * values are ids known to be absent. A local change reads the same few records three or four
     * times (resolve, check, apply, touch); records are immutable and every change to these two
     * tables goes through this store, so the map holds exactly what the transaction holds. It lives
     * as long as the transaction's outermost scope here, never across transactions.
     */
    private final ThreadLocal<Decoded> decoded = new ThreadLocal<>();

    private static final class Decoded {
        final Map<OpId, NodeRecord> nodes = new java.util.HashMap<>();
        final Map<OpId, EdgeRecord> edges = new java.util.HashMap<>();
        /** Whether this transaction put a node or an edge: from then on it reads a state that may yet abort. */
        boolean wrote;
    }

    /** At most this many edges are remembered dead; past it the memory starts again. */
    static final int DEAD_EDGES_MAX = 1 << 18;
    /**
     * Edges a presenter found dead (see {@link #knownDead}). An edge's liveness depends only on its
     * own record, its node's versions and, for a directory, the liveness of the edges inside it, so
     * a put of a node, or of an edge into a directory, forgets every remembered edge above it (all
     * of their edges, up to the root). Verdicts are taken and used only in write transactions,
     * which LMDB runs one at a time, and only before the transaction put anything: such a verdict
     * is about committed state, and stays right whether this transaction commits or aborts.
     */
    private final Set<OpId> dead = ConcurrentHashMap.newKeySet();

    public LmdbReplicaStore(Kv kv, PeerCursors cursors) {
        this.kv = kv;
        this.cursors = cursors;
    }

    @Override
    public void sync() {
        kv.sync();
    }

    @Override
    public void transaction(Runnable body) {
        if (current.get() != null) {
            body.run();
            return;
        }
        kv.writeVoid(txn -> {
            current.set(txn);
            decoded.set(new Decoded());
            try {
                body.run();
            } finally {
                current.remove();
                decoded.remove();
            }
        });
    }

    /**
     * Runs {@code body} with this store's calls inside a write transaction the caller opened (the
     * mount's namespace change), so the replica's operation commits or aborts with it.
     */
    public void within(KvWriteTxn txn, Runnable body) {
        KvWriteTxn outer = current.get();
        if (outer != null && outer != txn) {
            throw new IllegalStateException("a replica transaction is already open on this thread");
        }
        if (outer == null) {
            current.set(txn);
            decoded.set(new Decoded());
        }
        try {
            body.run();
        } finally {
            if (outer == null) {
                current.remove();
                decoded.remove();
            }
        }
    }

    /** Runs reads of this store through the caller's read transaction: one consistent state (a digest of the tree). */
    public <T> T reading(KvTxn txn, java.util.function.Supplier<T> body) {
        reading.set(txn);
        try {
            return body.get();
        } finally {
            reading.remove();
        }
    }

    private <T> T read(Function<KvTxn, T> body) {
        KvWriteTxn txn = current.get();
        if (txn != null) {
            return body.apply(txn);
        }
        KvTxn r = reading.get();
        return r != null ? body.apply(r) : kv.read(body);
    }

    /** Runs a change in the current transaction, or, called outside one, in a write transaction of its own. */
    private void change(java.util.function.Consumer<KvWriteTxn> body) {
        KvWriteTxn txn = current.get();
        if (txn != null) {
            body.accept(txn);
        } else {
            kv.writeVoid(body);
        }
    }

    @Override
    public NodeRecord node(OpId id) {
        Decoded d = decoded.get();
        if (d != null && d.nodes.containsKey(id)) {
            return d.nodes.get(id);
        }
        byte[] b = read(txn -> txn.get(Table.REPLICA_NODE, ReplicaRecords.idKey(id)));
        NodeRecord n = b == null ? null : ReplicaRecords.node(b);
        if (d != null) {
            d.nodes.put(id, n);
        }
        return n;
    }

    @Override
    public void putNode(NodeRecord node) {
        wrote();
        reviveAbove(node.id());
        change(txn -> txn.put(Table.REPLICA_NODE, ReplicaRecords.idKey(node.id()), ReplicaRecords.encode(node)));
        Decoded d = decoded.get();
        if (d != null) {
            d.nodes.put(node.id(), node);
        }
    }

    @Override
    public boolean knownDead(OpId edge) {
        return current.get() != null && dead.contains(edge);
    }

    @Override
    public void foundDead(OpId edge) {
        Decoded d = decoded.get();
        if (current.get() == null || d == null || d.wrote) {
            return;
        }
        if (dead.size() >= DEAD_EDGES_MAX) {
            dead.clear();
        }
        dead.add(edge);
    }

    private void wrote() {
        Decoded d = decoded.get();
        if (d != null) {
            d.wrote = true;
        }
    }

    /** Forgets the verdicts that a change at {@code node} (a new version, or an edge put into it) may overturn. */
    private void reviveAbove(OpId node) {
        if (dead.isEmpty()) {
            return;
        }
        java.util.ArrayDeque<OpId> todo = new java.util.ArrayDeque<>();
        Set<OpId> seen = new java.util.HashSet<>();
        todo.add(node);
        while (!todo.isEmpty()) {
            OpId n = todo.poll();
            if (!seen.add(n)) {
                continue;
            }
            for (EdgeRecord e : edgesOf(n)) {
                dead.remove(e.id());
                todo.add(e.placement().parent());
            }
        }
    }

    @Override
    public EdgeRecord edge(OpId id) {
        return read(txn -> edge(txn, id));
    }

    /** The edge {@code id} in {@code txn}, through this thread's decoded records when a write transaction is open here. */
    private EdgeRecord edge(KvTxn txn, OpId id) {
        Decoded d = decoded.get();
        if (d != null && d.edges.containsKey(id)) {
            return d.edges.get(id);
        }
        byte[] b = txn.get(Table.REPLICA_EDGE, ReplicaRecords.idKey(id));
        EdgeRecord e = b == null ? null : ReplicaRecords.edge(b);
        if (d != null) {
            d.edges.put(id, e);
        }
        return e;
    }

    @Override
    public void putEdge(EdgeRecord edge) {
        wrote();
        dead.remove(edge.id());
        reviveAbove(edge.placement().parent());
        change(txn -> putEdge(txn, edge));
        Decoded d = decoded.get();
        if (d != null) {
            d.edges.put(edge.id(), edge);
        }
    }

    /**
     * A removal leaves the edge where it is: then the (parent, name) index already holds it, and
     * only the edge record is rewritten (each index write is also journaled and logged ahead).
     */
    private void putEdge(KvWriteTxn txn, EdgeRecord edge) {
        byte[] id = ReplicaRecords.idKey(edge.id());
        EdgeRecord old = edge(txn, edge.id());
        Placement at = edge.placement();
        boolean indexed = false;
        if (old != null) {
            Placement was = old.placement();
            indexed = was.parent().equals(at.parent()) && was.name().equals(at.name());
            if (!indexed) {
                txn.delete(Table.REPLICA_CHILD, ReplicaRecords.childKey(was.parent(), was.name(), edge.id()));
            }
        } else {
            txn.put(Table.REPLICA_NODE_EDGE, ReplicaRecords.concat(ReplicaRecords.idKey(edge.node()), id), id);
        }
        txn.put(Table.REPLICA_EDGE, id, ReplicaRecords.encode(edge));
        if (!indexed) {
            txn.put(Table.REPLICA_CHILD, ReplicaRecords.childKey(at.parent(), at.name(), edge.id()), id);
        }
    }

    @Override
    public List<EdgeRecord> children(OpId parent) {
        return read(txn -> edges(txn, Table.REPLICA_CHILD, ReplicaRecords.idKey(parent)));
    }

    @Override
    public List<EdgeRecord> childrenNamed(OpId parent, String name) {
        byte[] prefix = ReplicaRecords.concat(ReplicaRecords.idKey(parent), name.getBytes(StandardCharsets.UTF_8), new byte[] {0});
        return read(txn -> edges(txn, Table.REPLICA_CHILD, prefix));
    }

    @Override
    public boolean hasChildren(OpId parent) {
        return read(txn -> {
            boolean[] any = {false};
            txn.scan(Table.REPLICA_CHILD, ReplicaRecords.idKey(parent), (k, v) -> {
                any[0] = true;
                return false;
            });
            return any[0];
        });
    }

    @Override
    public List<EdgeRecord> edgesOf(OpId node) {
        return read(txn -> edges(txn, Table.REPLICA_NODE_EDGE, ReplicaRecords.idKey(node)));
    }

    /** The edges an index names under {@code prefix}, in index order. */
    private List<EdgeRecord> edges(KvTxn txn, Table index, byte[] prefix) {
        List<byte[]> ids = new ArrayList<>();
        txn.scan(index, prefix, (k, v) -> {
            ids.add(Bytes.toArray(v));
            return true;
        });
        List<EdgeRecord> out = new ArrayList<>(ids.size());
        for (byte[] id : ids) {
            out.add(edge(txn, ReplicaRecords.idAt(id, 0)));
        }
        return out;
    }

    @Override
    public void putMove(MoveRecord move) {
        change(txn -> txn.put(Table.REPLICA_MOVE, ReplicaRecords.idKey(move.id()), ReplicaRecords.encode(move)));
    }

    @Override
    public List<MoveRecord> movesAfter(OpId id) {
        byte[] from = ReplicaRecords.idKey(id);
        return read(txn -> {
            List<MoveRecord> out = new ArrayList<>();
            txn.scan(Table.REPLICA_MOVE, EMPTY, from, (k, v) -> {
                MoveRecord m = ReplicaRecords.move(Bytes.toArray(v));
                if (m.id().after(id)) {
                    out.add(m);
                }
                return true;
            });
            return out;
        });
    }

    @Override
    public void appendOwn(Envelope envelope) {
        change(txn -> appendOwn(txn, envelope));
    }

    /**
     * The log is contiguous from position 1 by construction, so two point lookups (the previous
     * position present, this one free) check an append without reading the whole log.
     */
    private static void appendOwn(KvWriteTxn txn, Envelope envelope) {
        long seq = envelope.seq();
        if (seq > 1 && !txn.contains(Table.REPLICA_LOG, Bytes.longKey(seq - 1))) {
            throw new IllegalStateException("own log position " + seq + " appended where position " + (seq - 1) + " is missing");
        }
        if (txn.contains(Table.REPLICA_LOG, Bytes.longKey(seq))) {
            throw new IllegalStateException("own log position " + seq + " appended where it is already taken");
        }
        txn.put(Table.REPLICA_LOG, Bytes.longKey(seq), EnvelopeCodec.encode(envelope));
    }

    @Override
    public List<Envelope> ownLog(long afterSeq) {
        List<byte[]> records = read(afterSeq, Integer.MAX_VALUE);
        List<Envelope> out = new ArrayList<>(records.size());
        for (byte[] r : records) {
            out.add(decodeOwn(r));
        }
        return out;
    }

    private static Envelope decodeOwn(byte[] record) {
        try {
            return EnvelopeCodec.decode(record, "this site's log in the cache");
        } catch (LogIntegrityException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * Reads in chunks that start small and double: a publisher whose next envelope cannot be
     * published yet asks after every local change, and should then read one chunk of 16 records.
     */
    @Override
    public List<Envelope> ownLogWhile(long afterSeq, int max, java.util.function.Predicate<Envelope> take) {
        List<Envelope> out = new ArrayList<>();
        long after = afterSeq;
        int chunk = 16;
        while (out.size() < max) {
            int want = Math.min(chunk, max - out.size());
            List<byte[]> records = read(after, want);
            for (byte[] r : records) {
                Envelope e = decodeOwn(r);
                if (!take.test(e)) {
                    return out;
                }
                out.add(e);
                after = e.seq();
            }
            if (records.size() < want) {
                return out;
            }
            chunk *= 2;
        }
        return out;
    }

    /** Up to {@code max} raw records of this site's log after position {@code afterSeq}. */
    private List<byte[]> read(long afterSeq, int max) {
        return read(txn -> {
            List<byte[]> raw = new ArrayList<>();
            txn.scan(Table.REPLICA_LOG, EMPTY, Bytes.longKey(afterSeq + 1), (k, v) -> {
                raw.add(Bytes.toArray(v));
                return raw.size() < max;
            });
            return raw;
        });
    }

    @Override
    public Map<String, Long> cursors() {
        return read(cursors::all);
    }

    @Override
    public void putCursor(String site, long seq) {
        change(txn -> cursors.advance(txn, site, seq));
    }

    @Override
    public long clock() {
        byte[] b = read(txn -> txn.get(Table.COUNTER, CLOCK));
        return b == null ? 0 : Bytes.getLong(b, 0);
    }

    @Override
    public void putClock(long stamp) {
        change(txn -> txn.put(Table.COUNTER, CLOCK, Bytes.longKey(stamp)));
    }

    /**
     * A copy of the whole state in memory, independent of the cache directory: what the simulation's
     * restore-from-older-state needs, and a way to inspect a replica offline.
     */
    @Override
    public ReplicaStore copy() {
        MemoryReplicaStore copy = new MemoryReplicaStore();
        kv.read(txn -> {
            copy.transaction(() -> {
                txn.scan(Table.REPLICA_NODE, EMPTY, (k, v) -> {
                    copy.putNode(ReplicaRecords.node(Bytes.toArray(v)));
                    return true;
                });
                txn.scan(Table.REPLICA_EDGE, EMPTY, (k, v) -> {
                    copy.putEdge(ReplicaRecords.edge(Bytes.toArray(v)));
                    return true;
                });
                txn.scan(Table.REPLICA_MOVE, EMPTY, (k, v) -> {
                    copy.putMove(ReplicaRecords.move(Bytes.toArray(v)));
                    return true;
                });
                cursors.all(txn).forEach(copy::putCursor);
            });
            return null;
        });
        for (Envelope e : ownLog(0)) {
            copy.appendOwn(e);
        }
        copy.putClock(clock());
        return copy;
    }
}
