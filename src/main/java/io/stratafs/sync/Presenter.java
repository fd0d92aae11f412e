package io.stratafs.sync;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Computes what a replica shows from its stored state, one directory at a time through the
 * (parent, name) index, never by walking the whole tree (except {@link #tree} for tests and digests).
 *
 * <p>Liveness (add-wins removal): a name is live unless it was removed and, since what the remover
 * saw, neither its placement changed (no concurrent move) nor a content version appeared that the
 * remover had not seen (no concurrent write), nor, for a directory, is any name inside it live (a
 * concurrent create or move into it).
 *
 * <p>A directory's entries: its live names grouped by name. Several directories at one name are one
 * merged directory listing the union of their children; otherwise a directory keeps the name before
 * any non-directory, then the largest placement stamp does; every other name and every sibling
 * version of a file (a conflict copy, read-only and virtual) is shown under a {@link ConflictNames}
 * name made from its own stamp, with {@code -N} appended in OpId order when names collide.
 * One instance answers queries against one unchanging state; it memoises liveness.
 */
final class Presenter {
    /** Something shown at a path. */
    sealed interface Shown permits Dir, Named, Copy {
    }

    /** A directory: one node, or several merged ones ({@code winner} = largest placement stamp). Root has no edges. */
    record Dir(List<EdgeRecord> edges, List<OpId> nodes, OpId winner) implements Shown {
    }

    /** A name of a non-directory node, at its own name or under a conflict name. */
    record Named(EdgeRecord edge, NodeRecord node) implements Shown {
    }

    /** A sibling version of a file, next to the name {@code edge} of its node. */
    record Copy(EdgeRecord edge, NodeRecord node, NodeRecord.Version version) implements Shown {
    }

    static final Dir ROOT = new Dir(List.of(), List.of(OpId.ROOT), OpId.ROOT);

    private final ReplicaStore store;
    private final Map<OpId, Boolean> live = new HashMap<>();

    Presenter(ReplicaStore store) {
        this.store = store;
    }

    boolean live(EdgeRecord e) {
        Boolean known = live.get(e.id());
        if (known != null) {
            return known;
        }
        boolean l = computeLive(e);
        live.put(e.id(), l);
        return l;
    }

    private boolean computeLive(EdgeRecord e) {
        EdgeRecord.Removal r = e.removal();
        if (r == null || !r.placement().equals(e.placement().stamp())) {
            return true;
        }
        NodeRecord n = store.node(e.node());
        for (NodeRecord.Version v : n.versions()) {
            if (!r.content().dominates(v.vv())) {
                return true;
            }
        }
        if (n.isDirectory() && store.hasChildren(n.id())) {
            for (EdgeRecord child : store.children(n.id())) {
                if (live(child)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The entries of a directory by presented name. */
    SortedMap<String, Shown> list(Dir dir) {
        SortedMap<String, List<EdgeRecord>> byName = new TreeMap<>();
        for (OpId node : dir.nodes()) {
            for (EdgeRecord e : store.children(node)) {
                if (live(e)) {
                    byName.computeIfAbsent(e.placement().name(), k -> new ArrayList<>()).add(e);
                }
            }
        }
        SortedMap<String, Shown> out = new TreeMap<>();
        List<Loser> losers = new ArrayList<>();
        List<Named> files = new ArrayList<>();
        for (Map.Entry<String, List<EdgeRecord>> g : byName.entrySet()) {
            List<EdgeRecord> dirs = new ArrayList<>();
            List<Named> others = new ArrayList<>();
            for (EdgeRecord e : g.getValue()) {
                NodeRecord n = store.node(e.node());
                if (n.isDirectory()) {
                    dirs.add(e);
                } else {
                    others.add(new Named(e, n));
                }
            }
            others.sort(Comparator.comparing((Named x) -> x.edge().placement().stamp()).reversed());
            files.addAll(others);
            if (!dirs.isEmpty()) {
                dirs.sort(Comparator.comparing((EdgeRecord x) -> x.placement().stamp()).reversed());
                List<OpId> nodes = dirs.stream().map(EdgeRecord::node).sorted().toList();
                out.put(g.getKey(), new Dir(List.copyOf(dirs), nodes, dirs.get(0).node()));
            } else {
                out.put(g.getKey(), others.remove(0));
            }
            for (Named n : others) {
                losers.add(new Loser(n.edge().placement().stamp(), 0, n.edge().id(), g.getKey(), n));
            }
        }
        for (Named f : files) {
            List<NodeRecord.Version> vs = f.node().versions();
            for (int i = 0; i < vs.size() - 1; i++) {
                NodeRecord.Version v = vs.get(i);
                losers.add(new Loser(v.id(), 1, f.edge().id(), f.edge().placement().name(), new Copy(f.edge(), f.node(), v)));
            }
        }
        losers.sort(Comparator.comparing(Loser::stamp).thenComparingInt(Loser::kind).thenComparing(Loser::tiebreak));
        for (Loser l : losers) {
            int n = 1;
            String name = ConflictNames.of(l.name(), l.stamp(), n);
            while (out.containsKey(name)) {
                name = ConflictNames.of(l.name(), l.stamp(), ++n);
            }
            out.put(name, l.shown());
        }
        return out;
    }

    private record Loser(OpId stamp, int kind, OpId tiebreak, String name, Shown shown) {
    }

    /** What is shown at {@code path} ("/" or "/a/b"). */
    Shown resolve(String path) throws SyncException {
        Shown cur = ROOT;
        for (String part : Paths.parts(path)) {
            if (!(cur instanceof Dir d)) {
                throw new SyncException(SyncException.Kind.ENOTDIR, "a parent of " + path + " is not a directory");
            }
            cur = list(d).get(part);
            if (cur == null) {
                throw new SyncException(SyncException.Kind.ENOENT, path + " does not exist");
            }
        }
        return cur;
    }

    /** The whole presented tree. */
    Tree tree() {
        SortedMap<String, Tree.Entry> entries = new TreeMap<>();
        walk("/", ROOT, entries);
        return new Tree(entries);
    }

    private void walk(String path, Shown shown, SortedMap<String, Tree.Entry> into) {
        if (shown instanceof Dir d) {
            SortedMap<String, Shown> children = list(d);
            into.put(path, dirEntry(d, children));
            for (Map.Entry<String, Shown> c : children.entrySet()) {
                walk(path.equals("/") ? "/" + c.getKey() : path + "/" + c.getKey(), c.getValue(), into);
            }
        } else {
            into.put(path, entry(shown));
        }
    }

    /** What stat shows for one entry. */
    Tree.Entry entry(Shown shown) {
        if (shown instanceof Dir d) {
            return dirEntry(d, list(d));
        }
        NodeRecord n = shown instanceof Copy c ? c.node() : ((Named) shown).node();
        int links = 0;
        for (EdgeRecord e : store.edgesOf(n.id())) {
            if (live(e)) {
                links++;
            }
        }
        if (shown instanceof Copy c) {
            // A conflict copy is a view of its node, so it shows the node's link count.
            NodeRecord.Version v = c.version();
            return new Tree.Entry(n.type() | (n.perm().value() & ~0222), n.uid().value(), n.gid().value(),
                    n.atimeNs().value(), v.mtimeNs(), Merge.nanos(v.id()), links, v.content().size(), v.content(),
                    null, xattrs(n), n.id(), v.id(), true);
        }
        NodeRecord.Version winner = n.versions().isEmpty() ? null : n.versions().get(n.versions().size() - 1);
        long size = winner != null ? winner.content().size() : n.symlinkTarget() != null ? n.symlinkTarget().length : 0;
        return new Tree.Entry(n.type() | n.perm().value(), n.uid().value(), n.gid().value(), n.atimeNs().value(),
                n.mtimeNs().value(), Merge.nanos(n.touched()), links, size, winner == null ? null : winner.content(),
                n.symlinkTarget(), xattrs(n), n.id(), winner == null ? null : winner.id(), false);
    }

    private Tree.Entry dirEntry(Dir d, SortedMap<String, Shown> children) {
        NodeRecord n = store.node(d.winner());
        int subdirs = 0;
        for (Shown s : children.values()) {
            if (s instanceof Dir) {
                subdirs++;
            }
        }
        return new Tree.Entry(n.type() | n.perm().value(), n.uid().value(), n.gid().value(), n.atimeNs().value(),
                n.mtimeNs().value(), Merge.nanos(n.touched()), 2 + subdirs, 0, null, null, xattrs(n), n.id(), null,
                false);
    }

    private static SortedMap<String, byte[]> xattrs(NodeRecord n) {
        SortedMap<String, byte[]> out = new TreeMap<>();
        n.xattrs().forEach((k, r) -> {
            if (r.value() != null) {
                out.put(k, r.value());
            }
        });
        return out;
    }
}
