package io.stratafs.sync;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        boolean l = !store.knownDead(e.id()) && computeLive(e);
        live.put(e.id(), l);
        if (!l) {
            store.foundDead(e.id());
        }
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
            Shown primary = primary(g.getValue());
            out.put(g.getKey(), primary);
            for (EdgeRecord e : g.getValue()) {
                NodeRecord n = store.node(e.node());
                if (n.isDirectory()) {
                    continue;
                }
                Named named = primary instanceof Named p && p.edge().id().equals(e.id()) ? p : new Named(e, n);
                files.add(named);
                if (named != primary) {
                    losers.add(new Loser(e.placement().stamp(), 0, e.id(), g.getKey(), named));
                }
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

    /**
     * What one name shows, given the live edges with that name: the merged directory if any is a
     * directory, else the name with the largest placement stamp.
     */
    private Shown primary(List<EdgeRecord> group) {
        List<EdgeRecord> dirs = new ArrayList<>();
        EdgeRecord latest = null;
        for (EdgeRecord e : group) {
            if (store.node(e.node()).isDirectory()) {
                dirs.add(e);
            } else if (latest == null || e.placement().stamp().after(latest.placement().stamp())) {
                latest = e;
            }
        }
        if (dirs.isEmpty()) {
            return new Named(latest, store.node(latest.node()));
        }
        dirs.sort(Comparator.comparing((EdgeRecord x) -> x.placement().stamp()).reversed());
        return new Dir(List.copyOf(dirs), dirs.stream().map(EdgeRecord::node).sorted().toList(), dirs.get(0).node());
    }

    /**
     * What directory {@code dir} shows at {@code name}, or null, through the (parent, name) index: only
     * a name that may be a conflict name, and is not a live name itself, needs the whole listing.
     */
    Shown child(Dir dir, String name) {
        List<EdgeRecord> group = new ArrayList<>();
        for (OpId node : dir.nodes()) {
            for (EdgeRecord e : store.childrenNamed(node, name)) {
                if (live(e)) {
                    group.add(e);
                }
            }
        }
        if (!group.isEmpty()) {
            return primary(group);
        }
        return name.contains(".conflict-") ? list(dir).get(name) : null;
    }

    /** Whether a directory shows no entry: no live name in any of its directories. */
    boolean isEmpty(Dir dir) {
        for (OpId node : dir.nodes()) {
            if (store.hasChildren(node)) {
                for (EdgeRecord e : store.children(node)) {
                    if (live(e)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** How many directories a directory shows (merged ones once): its link count is 2 more. */
    private int subdirectories(Dir dir) {
        Set<String> names = new HashSet<>();
        for (OpId node : dir.nodes()) {
            for (EdgeRecord e : store.children(node)) {
                if (live(e) && store.node(e.node()).isDirectory()) {
                    names.add(e.placement().name());
                }
            }
        }
        return names.size();
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
            cur = child(d, part);
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

    /** How many names are shown below the root, conflict copies not counted. */
    long names() {
        long n = 0;
        List<Dir> dirs = new ArrayList<>(List.of(ROOT));
        while (!dirs.isEmpty()) {
            for (Shown s : list(dirs.remove(dirs.size() - 1)).values()) {
                if (s instanceof Dir d) {
                    dirs.add(d);
                }
                if (!(s instanceof Copy)) {
                    n++;
                }
            }
        }
        return n;
    }

    private void walk(String path, Shown shown, SortedMap<String, Tree.Entry> into) {
        if (shown instanceof Dir d) {
            SortedMap<String, Shown> children = list(d);
            into.put(path, dirEntry(d, (int) children.values().stream().filter(s -> s instanceof Dir).count()));
            for (Map.Entry<String, Shown> c : children.entrySet()) {
                walk(Paths.child(path, c.getKey()), c.getValue(), into);
            }
        } else {
            into.put(path, entry(shown));
        }
    }

    /** What stat shows for one entry. */
    Tree.Entry entry(Shown shown) {
        if (shown instanceof Dir d) {
            return dirEntry(d, subdirectories(d));
        }
        if (shown instanceof Copy c) {
            // A conflict copy is a read-only view of one version, not a name of the file: one link.
            NodeRecord n = c.node();
            NodeRecord.Version v = c.version();
            return new Tree.Entry(n.type() | (n.perm().value() & ~0222), n.uid().value(), n.gid().value(),
                    n.atimeNs().value(), v.mtimeNs(), Merge.nanos(v.id()), 1, v.content().size(), v.content(), null,
                    xattrs(n), n.id(), v.id(), true);
        }
        NodeRecord n = ((Named) shown).node();
        int links = 0;
        for (EdgeRecord e : store.edgesOf(n.id())) {
            if (live(e)) {
                links++;
            }
        }
        NodeRecord.Version winner = n.versions().isEmpty() ? null : n.versions().get(n.versions().size() - 1);
        long size = winner != null ? winner.content().size() : n.symlinkTarget() != null ? n.symlinkTarget().length : 0;
        return new Tree.Entry(n.type() | n.perm().value(), n.uid().value(), n.gid().value(), n.atimeNs().value(),
                n.mtimeNs().value(), Merge.nanos(n.touched()), links, size, winner == null ? null : winner.content(),
                n.symlinkTarget(), xattrs(n), n.id(), winner == null ? null : winner.id(), false);
    }

    private Tree.Entry dirEntry(Dir d, int subdirs) {
        NodeRecord n = store.node(d.winner());
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
