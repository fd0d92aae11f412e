package io.stratafs.sync;

import io.stratafs.clock.Hlc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Applies operations to a replica's stored state. Every rule here gives the same state for any
 * order of concurrent operations (causes always arrive before effects):
 * <ul>
 *   <li>attributes and xattrs: per attribute (per xattr name) the write with the largest OpId wins;
 *   <li>file content: the versions no other version supersedes (vector dominates; equal vectors: the
 *       larger OpId) are kept, so concurrent writes all survive;
 *   <li>a file's name: the placement with the largest OpId wins;
 *   <li>a directory's name: moves take effect in OpId order, a move that would put a directory
 *       inside itself is skipped; a move arriving after later ones undoes them, takes its place and
 *       redoes them (Kleppmann et al. 2021), so the result depends only on the set of moves;
 *   <li>removal only records what the remover had seen; liveness is decided at presentation.
 * </ul>
 */
final class Merge {
    private final ReplicaStore store;

    Merge(ReplicaStore store) {
        this.store = store;
    }

    void apply(Op op) {
        if (op instanceof Op.Create c) {
            create(c);
        } else if (op instanceof Op.Link l) {
            link(l);
        } else if (op instanceof Op.Move m) {
            move(m);
        } else if (op instanceof Op.Remove r) {
            remove(r.edge(), r.seen(), r.id());
        } else if (op instanceof Op.SetAttr s) {
            setAttr(s);
        } else if (op instanceof Op.SetXattr x) {
            setXattr(x);
        } else if (op instanceof Op.Write w) {
            write(w);
        }
    }

    /**
     * Refuses an operation that names what this replica does not hold or breaks the model (a
     * directory with a second name, content for a directory, ...), before anything is changed. With
     * causal delivery a well-formed log never fails this; a damaged one stops here, not halfway.
     */
    void check(Op op) {
        if (op instanceof Op.Create c) {
            need(store.node(c.id()) == null && store.edge(c.id()) == null, op, "its id is taken");
            need(Modes.validType(c.mode() & Modes.S_IFMT), op, "its mode has no valid file type");
            need(((c.mode() & Modes.S_IFMT) == Modes.S_IFLNK) == (c.symlinkTarget() != null), op,
                    "a symlink needs a target and nothing else has one");
            directory(c.parent(), op);
            name(c.name(), op);
        } else if (op instanceof Op.Link l) {
            need(store.edge(l.id()) == null, op, "its id is taken");
            need(!node(l.node(), op).isDirectory(), op, "a directory cannot have a second name");
            directory(l.parent(), op);
            name(l.name(), op);
        } else if (op instanceof Op.Move m) {
            edge(m.edge(), op);
            directory(m.parent(), op);
            name(m.name(), op);
            need((m.replaced() == null) == (m.replacedSeen() == null), op, "a replaced name needs what was seen of it");
            if (m.replaced() != null) {
                edge(m.replaced(), op);
            }
        } else if (op instanceof Op.Remove r) {
            edge(r.edge(), op);
            need(r.seen() != null, op, "a removal needs what was seen");
        } else if (op instanceof Op.SetAttr s) {
            node(s.node(), op);
        } else if (op instanceof Op.SetXattr x) {
            node(x.node(), op);
            need(x.name() != null && !x.name().isEmpty(), op, "an xattr needs a name");
        } else if (op instanceof Op.Write w) {
            need(node(w.node(), op).isRegular(), op, "only a regular file has content");
            need(w.vv() != null && w.content() != null, op, "a write needs a version vector and content");
        }
    }

    private static void need(boolean ok, Op op, String why) {
        if (!ok) {
            throw new IllegalArgumentException("operation " + op.id() + " cannot be applied: " + why);
        }
    }

    private NodeRecord node(OpId id, Op op) {
        NodeRecord n = store.node(id);
        need(n != null, op, "it names node " + id + ", which this replica does not hold");
        return n;
    }

    private void edge(OpId id, Op op) {
        need(store.edge(id) != null, op, "it names name " + id + ", which this replica does not hold");
    }

    private void directory(OpId id, Op op) {
        need(node(id, op).isDirectory(), op, "its parent " + id + " is not a directory");
    }

    private static void name(String name, Op op) {
        need(name != null && !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0
                && name.indexOf('\0') < 0, op, "\"" + name + "\" is not a file name");
    }

    /** The root directory's state before any operation set it: every operation's stamp beats it. */
    static NodeRecord root() {
        OpId r = OpId.ROOT;
        return new NodeRecord(r, Modes.S_IFDIR, 0, null, new Register<>(0755, r), new Register<>(0, r),
                new Register<>(0, r), new Register<>(0L, r), new Register<>(0L, r), new TreeMap<>(), List.of(), r);
    }

    private void create(Op.Create c) {
        OpId id = c.id();
        long ns = nanos(id);
        int type = c.mode() & Modes.S_IFMT;
        List<NodeRecord.Version> versions = type == Modes.S_IFREG
                ? List.of(new NodeRecord.Version(id, Replica.createdVector(id), Manifest.EMPTY, ns))
                : List.of();
        store.putNode(new NodeRecord(id, type, c.rdev(), c.symlinkTarget(), new Register<>(c.mode() & Modes.PERM, id),
                new Register<>(c.uid(), id), new Register<>(c.gid(), id), new Register<>(ns, id), new Register<>(ns, id),
                new TreeMap<>(), versions, id));
        store.putEdge(new EdgeRecord(id, id, new Placement(c.parent(), c.name(), id), null));
    }

    private void link(Op.Link l) {
        store.putEdge(new EdgeRecord(l.id(), l.node(), new Placement(l.parent(), l.name(), l.id()), null));
        touch(l.node(), l.id());
    }

    private void move(Op.Move m) {
        EdgeRecord edge = store.edge(m.edge());
        touch(edge.node(), m.id());
        if (m.replaced() != null) {
            // The replaced name goes whether or not the move itself is later skipped as a cycle, so the
            // outcome never depends on which other moves have arrived yet.
            remove(m.replaced(), m.replacedSeen(), m.id());
        }
        Placement to = new Placement(m.parent(), m.name(), m.id());
        if (!store.node(edge.node()).isDirectory()) {
            if (m.id().after(edge.placement().stamp())) {
                store.putEdge(edge.withPlacement(to));
            }
            return;
        }
        List<MoveRecord> later = store.movesAfter(m.id());
        for (int i = later.size() - 1; i >= 0; i--) {
            undo(later.get(i));
        }
        store.putMove(doMove(m.id(), m.edge(), to));
        for (MoveRecord l : later) {
            store.putMove(doMove(l.id(), l.edge(), l.to()));
        }
    }

    private void undo(MoveRecord m) {
        if (m.applied()) {
            store.putEdge(store.edge(m.edge()).withPlacement(m.before()));
        }
    }

    private MoveRecord doMove(OpId id, OpId edgeId, Placement to) {
        EdgeRecord edge = store.edge(edgeId);
        boolean applied = !isAncestorOrSelf(edge.node(), to.parent());
        if (applied) {
            store.putEdge(edge.withPlacement(to));
        }
        return new MoveRecord(id, edgeId, to, edge.placement(), applied);
    }

    /** Whether directory {@code dir} is {@code node} or one of its ancestors, in the current placements. */
    private boolean isAncestorOrSelf(OpId dir, OpId node) {
        OpId cur = node;
        while (!cur.equals(OpId.ROOT)) {
            if (cur.equals(dir)) {
                return true;
            }
            // A directory has exactly one name, identified like the directory itself.
            cur = store.edge(cur).placement().parent();
        }
        return dir.equals(OpId.ROOT);
    }

    private void remove(OpId edgeId, Op.Seen seen, OpId by) {
        EdgeRecord edge = store.edge(edgeId);
        VersionVector content = seen.content() == null ? VersionVector.EMPTY : seen.content();
        store.putEdge(edge.withRemoval(new EdgeRecord.Removal(seen.placement(), content)));
        touch(edge.node(), by);
    }

    private void setAttr(Op.SetAttr s) {
        NodeRecord n = store.node(s.node());
        OpId id = s.id();
        int mask = s.mask();
        store.putNode(n.with(
                (mask & Op.SetAttr.MODE) != 0 ? n.perm().set(s.mode() & Modes.PERM, id) : n.perm(),
                (mask & Op.SetAttr.UID) != 0 ? n.uid().set(s.uid(), id) : n.uid(),
                (mask & Op.SetAttr.GID) != 0 ? n.gid().set(s.gid(), id) : n.gid(),
                (mask & Op.SetAttr.ATIME) != 0 ? n.atimeNs().set(s.atimeNs(), id) : n.atimeNs(),
                (mask & Op.SetAttr.MTIME) != 0 ? n.mtimeNs().set(s.mtimeNs(), id) : n.mtimeNs(),
                n.xattrs(), n.versions(), n.touched()).touch(id));
    }

    private void setXattr(Op.SetXattr x) {
        NodeRecord n = store.node(x.node());
        SortedMap<String, Register<byte[]>> xattrs = new TreeMap<>(n.xattrs());
        Register<byte[]> old = xattrs.get(x.name());
        xattrs.put(x.name(), old == null ? new Register<>(x.value(), x.id()) : old.set(x.value(), x.id()));
        store.putNode(n.with(n.perm(), n.uid(), n.gid(), n.atimeNs(), n.mtimeNs(), xattrs, n.versions(), n.touched())
                .touch(x.id()));
    }

    private void write(Op.Write w) {
        NodeRecord n = store.node(w.node());
        NodeRecord.Version mine = new NodeRecord.Version(w.id(), w.vv(), w.content(), w.mtimeNs());
        List<NodeRecord.Version> versions = new ArrayList<>();
        boolean superseded = false;
        for (NodeRecord.Version v : n.versions()) {
            superseded |= v.id().equals(mine.id()) || supersedes(v, mine);
            if (!supersedes(mine, v)) {
                versions.add(v);
            }
        }
        if (superseded) {
            versions = n.versions();
        } else {
            versions.add(mine);
            versions.sort((a, b) -> a.id().compareTo(b.id()));
        }
        // mtime is its own register: a write that loses as a version still stamps it, in every order.
        store.putNode(n.with(n.perm(), n.uid(), n.gid(), n.atimeNs(), n.mtimeNs().set(w.mtimeNs(), w.id()),
                n.xattrs(), versions, n.touched()).touch(w.id()));
    }

    /** Whether version {@code a} replaces {@code b}: it saw everything b saw (equal vectors: the larger OpId stays). */
    static boolean supersedes(NodeRecord.Version a, NodeRecord.Version b) {
        if (!a.vv().dominates(b.vv())) {
            return false;
        }
        return !a.vv().equals(b.vv()) || a.id().after(b.id());
    }

    private void touch(OpId node, OpId by) {
        NodeRecord n = store.node(node);
        NodeRecord t = n.touch(by);
        if (t != n) {
            store.putNode(t);
        }
    }

    static long nanos(OpId id) {
        return Hlc.physicalMillis(id.hlc()) * 1_000_000L;
    }
}
