package io.stratafs.sync;

import io.stratafs.clock.Hlc;
import io.stratafs.sync.Presenter.Copy;
import io.stratafs.sync.Presenter.Dir;
import io.stratafs.sync.Presenter.Named;
import io.stratafs.sync.Presenter.Shown;
import io.stratafs.sync.SyncException.Kind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One site's replica of the namespace: local operations, checked against the tree this site
 * presents and appended to its own log, and the application of every site's log in causal order.
 * Sites that applied the same envelopes present the same tree whatever the order: the merge rules
 * are in {@link Merge}, what is shown (liveness, merged directories, conflict copies) in
 * {@link Presenter}.
 *
 * <p>A local operation on a merged directory acts on all its directories where the user means the
 * name (rmdir removes each, rename moves each, so they merge again at the new name) and on the
 * winner otherwise (creates inside it, attributes). Renaming a conflict copy keeps it as a file of
 * its own. An operation that needs several log entries appends them all and returns the last.
 *
 * <p>After a restore from an older copy of the state, the site must re-apply its own envelopes from
 * its published log (through {@link #apply}) before making new local operations, so it neither
 * reuses a log position nor a stamp. Not thread-safe: callers use a replica from one thread at a time.
 */
public final class Replica {
    private final String site;
    private final ReplicaStore store;
    private final Hlc clock;
    private final Merge merge;

    /** A site's replica over its state; continues its own log and clock from what the state holds. */
    /** Makes this replica's changes so far survive a power loss ({@link ReplicaStore#sync}). */
    public void sync() {
        store.sync();
    }

    public Replica(String site, LongSupplier wallMillis, ReplicaStore store) {
        if (site == null || site.isEmpty()) {
            throw new IllegalArgumentException("a replica needs a site name");
        }
        this.site = site;
        this.store = store;
        this.clock = new Hlc(wallMillis, Math.max(store.clock(), lastOwnStamp(store, site)));
        this.merge = new Merge(store);
        if (store.node(OpId.ROOT) == null) {
            store.transaction(() -> store.putNode(Merge.root()));
        }
    }

    public String site() {
        return site;
    }

    // ---- local operations

    public Envelope create(String path, int mode, int uid, int gid, long rdev, byte[] symlinkTarget) throws SyncException {
        int type = mode & Modes.S_IFMT;
        if (!Modes.validType(type)) {
            throw new SyncException(Kind.EINVAL, String.format("mode %o of %s has no valid file type", mode, path));
        }
        if ((type == Modes.S_IFLNK) != (symlinkTarget != null)) {
            throw new SyncException(Kind.EINVAL, type == Modes.S_IFLNK ? "symlink " + path + " needs a target"
                    : path + " is not a symlink and cannot have a target");
        }
        Presenter p = new Presenter(store);
        Dir parent = freeName(p, path);
        String name = Paths.name(path);
        return emit(id -> new Op.Create(id, parent.winner(), name, mode, uid, gid, rdev, symlinkTarget));
    }

    public Envelope link(String existing, String newPath) throws SyncException {
        Presenter p = new Presenter(store);
        Named target = named(p.resolve(existing), existing);
        Dir parent = freeName(p, newPath);
        String name = Paths.name(newPath);
        return emit(id -> new Op.Link(id, target.node().id(), parent.winner(), name));
    }

    /** POSIX rename, replacing a file or an empty directory at {@code to}; EINVAL into its own subtree. */
    public Envelope rename(String from, String to) throws SyncException {
        Presenter p = new Presenter(store);
        String src = Paths.normal(from);
        String dst = Paths.normal(to);
        if (src.equals("/") || dst.equals("/")) {
            throw new SyncException(Kind.EINVAL, "the root directory cannot be renamed or replaced");
        }
        Shown moving = p.resolve(src);
        Shown parentShown = p.resolve(Paths.parent(dst));
        if (!(parentShown instanceof Dir parent)) {
            throw new SyncException(Kind.ENOTDIR, Paths.parent(dst) + " is not a directory");
        }
        String name = Paths.name(dst);
        Shown replaced = p.child(parent, name);
        if (moving instanceof Copy copy) {
            if (replaced != null) {
                throw new SyncException(Kind.EEXIST, dst + " exists; a conflict copy is kept only under a free name");
            }
            return keep(copy, parent, name);
        }
        if (moving instanceof Dir && dst.startsWith(src + "/")) {
            throw new SyncException(Kind.EINVAL, "cannot move " + src + " into its own subtree " + dst);
        }
        if (replaced instanceof Copy) {
            throw new SyncException(Kind.EROFS, dst + " is a conflict copy (read-only); remove it first");
        }
        if (moving instanceof Named n && replaced instanceof Named r && r.node().id().equals(n.node().id())) {
            // Two names of one file: POSIX leaves both in place.
            return emit(id -> new Op.Move(id, n.edge().id(), n.edge().placement().parent(),
                    n.edge().placement().name(), null, null));
        }
        if (replaced instanceof Dir rd) {
            if (!(moving instanceof Dir)) {
                throw new SyncException(Kind.EISDIR, dst + " is a directory; " + src + " is not");
            }
            if (rd.nodes().equals(((Dir) moving).nodes())) {
                return touch((Dir) moving);
            }
            if (!p.isEmpty(rd)) {
                throw new SyncException(Kind.ENOTEMPTY, dst + " is a directory that is not empty");
            }
        } else if (replaced instanceof Named && moving instanceof Dir) {
            throw new SyncException(Kind.ENOTDIR, src + " is a directory; " + dst + " is not");
        }
        List<EdgeRecord> gone = replaced instanceof Dir rd ? rd.edges()
                : replaced instanceof Named r ? List.of(r.edge()) : List.of();
        List<EdgeRecord> moved = moving instanceof Dir md ? md.edges() : List.of(((Named) moving).edge());
        for (EdgeRecord g : gone.subList(Math.min(1, gone.size()), gone.size())) {
            emit(id -> new Op.Remove(id, g.id(), seen(g)));
        }
        Envelope last = null;
        for (EdgeRecord m : moved) {
            // The first move replaces the winner of what was at the name; the others join it there.
            EdgeRecord g = last == null && !gone.isEmpty() ? gone.get(0) : null;
            last = emit(id -> new Op.Move(id, m.id(), parent.winner(), name, g == null ? null : g.id(),
                    g == null ? null : seen(g)));
        }
        return last;
    }

    /** unlink or rmdir (ENOTEMPTY if it presents children); on a conflict copy, {@link #discardConflictCopy}. */
    public Envelope remove(String path) throws SyncException {
        Presenter p = new Presenter(store);
        Shown s = p.resolve(path);
        if (s instanceof Copy c) {
            return discard(c);
        }
        if (s instanceof Named n) {
            return emit(id -> new Op.Remove(id, n.edge().id(), seen(n.edge())));
        }
        Dir d = (Dir) s;
        if (d.edges().isEmpty()) {
            throw new SyncException(Kind.EINVAL, "the root directory cannot be removed");
        }
        if (!p.isEmpty(d)) {
            throw new SyncException(Kind.ENOTEMPTY, path + " is a directory that is not empty");
        }
        Envelope last = null;
        for (EdgeRecord e : d.edges()) {
            last = emit(id -> new Op.Remove(id, e.id(), seen(e)));
        }
        return last;
    }

    /** chmod, chown, utimens: the attributes named in {@code mask} (Op.SetAttr's bits). */
    public Envelope setAttr(String path, int mask, int mode, int uid, int gid, long atimeNs, long mtimeNs)
            throws SyncException {
        int all = Op.SetAttr.MODE | Op.SetAttr.UID | Op.SetAttr.GID | Op.SetAttr.ATIME | Op.SetAttr.MTIME;
        if (mask == 0 || (mask & ~all) != 0) {
            throw new SyncException(Kind.EINVAL, "attribute mask " + mask + " names no attribute or an unknown one");
        }
        OpId node = writableNode(new Presenter(store).resolve(path), path);
        return emit(id -> new Op.SetAttr(id, node, mask, mode & Modes.PERM, uid, gid, atimeNs, mtimeNs));
    }

    /** setxattr, or removexattr when {@code valueOrNullToRemove} is null. */
    public Envelope setXattr(String path, String name, byte[] valueOrNullToRemove) throws SyncException {
        if (name == null || name.isEmpty()) {
            throw new SyncException(Kind.EINVAL, "an extended attribute needs a name");
        }
        OpId node = writableNode(new Presenter(store).resolve(path), path);
        byte[] value = valueOrNullToRemove == null ? null : valueOrNullToRemove.clone();
        return emit(id -> new Op.SetXattr(id, node, name, value));
    }

    /** A regular file's whole new content; it replaces every version this site holds of it. */
    public Envelope write(String path, Manifest content, long mtimeNs) throws SyncException {
        Shown s = new Presenter(store).resolve(path);
        if (s instanceof Copy) {
            throw new SyncException(Kind.EROFS, path + " is a conflict copy (read-only); rename it to keep it as a file");
        }
        if (s instanceof Dir) {
            throw new SyncException(Kind.EISDIR, path + " is a directory");
        }
        NodeRecord n = ((Named) s).node();
        if (!n.isRegular()) {
            throw new SyncException(Kind.EINVAL, path + " is not a regular file");
        }
        VersionVector vv = joined(n).increment(site);
        return emit(id -> new Op.Write(id, n.id(), vv, content, mtimeNs));
    }

    /**
     * A regular file's new content written at this site, based on version vector {@code base} (that
     * of the version the site showed when the file was written, at first the one its Create made). Unlike
     * {@link #write(String, Manifest, long)} it supersedes only what the writer saw: a version that
     * arrived from another site meanwhile stays, as a conflict copy or at the path.
     */
    public Envelope write(OpId node, VersionVector base, Manifest content, long mtimeNs) throws SyncException {
        NodeRecord n = store.node(node);
        if (n == null) {
            throw new SyncException(Kind.ENOENT, "file " + node + " is not in this site's replica");
        }
        if (!n.isRegular()) {
            throw new SyncException(Kind.EINVAL, "node " + node + " is not a regular file");
        }
        // Names of the file this site removed stay removed: add-wins revives a name for a write the
        // remover had not seen, and this write comes after the removal. The removal is renewed to
        // cover the new version (before the write when its vector is known beforehand, so a peer
        // never shows the name again even for a moment).
        Presenter p = new Presenter(store);
        List<EdgeRecord> removed = new ArrayList<>();
        for (EdgeRecord e : store.edgesOf(node)) {
            if (e.removal() != null && !p.live(e)) {
                removed.add(e);
            }
        }
        if (ownCountFree(base, n)) {
            VersionVector vv = base.increment(site);
            renewRemovals(removed, joined(n).join(vv));
            return emit(id -> new Op.Write(id, node, vv, content, mtimeNs));
        }
        Envelope w = emit(id -> new Op.Write(id, node, base.increment(id.toString()), content, mtimeNs));
        renewRemovals(removed, joined(store.node(node)));
        return w;
    }

    private void renewRemovals(List<EdgeRecord> removed, VersionVector content) {
        for (EdgeRecord e : removed) {
            EdgeRecord now = store.edge(e.id());
            emit(id -> new Op.Remove(id, now.id(), new Op.Seen(now.placement().stamp(), content)));
        }
    }

    /** Discards the sibling version shown at the conflict-copy path (the winner stays). */
    public Envelope discardConflictCopy(String path) throws SyncException {
        Shown s = new Presenter(store).resolve(path);
        if (!(s instanceof Copy c)) {
            throw new SyncException(Kind.EINVAL, path + " is not a conflict copy");
        }
        return discard(c);
    }

    /**
     * The version vector of the empty content a Create with id {@code create} gives a regular file:
     * what a mount records for a name it just created without asking the replica to show it again.
     */
    public static VersionVector createdVector(OpId create) {
        return new VersionVector(Map.of(create.site(), 1L));
    }

    // ---- exchange

    /** This site's log from position {@code afterSeq} on (what a peer has not applied yet). */
    public List<Envelope> log(long afterSeq) {
        return store.ownLog(afterSeq);
    }

    /** The longest prefix of {@link #log(long)}, at most {@code max} long, that passes {@code take} (see {@link ReplicaStore#ownLogWhile}). */
    public List<Envelope> logWhile(long afterSeq, int max, java.util.function.Predicate<Envelope> take) {
        return store.ownLogWhile(afterSeq, max, take);
    }

    /** Whether e can be applied now (its site's previous envelope and its deps applied). Duplicates: false. */
    public boolean ready(Envelope e) {
        Map<String, Long> cursors = store.cursors();
        if (e.seq() != cursors.getOrDefault(e.site(), 0L) + 1) {
            return false;
        }
        for (Map.Entry<String, Long> d : e.deps().entrySet()) {
            if (!d.getKey().equals(e.site()) && cursors.getOrDefault(d.getKey(), 0L) < d.getValue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Applies a peer's envelope, or this site's own re-read from its published log after a restore
     * from an older state. An envelope already applied is ignored; one whose causes are missing, or
     * whose operation names what this replica does not hold, is refused (IllegalArgumentException)
     * and changes nothing.
     */
    public void apply(Envelope e) {
        if (e.seq() <= store.cursors().getOrDefault(e.site(), 0L)) {
            return;
        }
        if (!ready(e)) {
            throw new IllegalArgumentException("envelope " + e.site() + "#" + e.seq()
                    + " arrived before its causes (its site's previous envelope or its deps " + e.deps() + ")");
        }
        merge.check(e.op());
        clock.observe(e.op().id().hlc());
        commit(e);
    }

    /** Per site: the last log position applied (this site's own included). */
    public Map<String, Long> cursors() {
        return store.cursors();
    }

    /**
     * How many names shown now the envelopes would remove (each Remove, and each Move that replaces
     * a name, counted once per name): with {@link #liveNames}, what a delete-burst guard compares
     * before applying a peer's batch.
     */
    public int removals(Collection<Envelope> batch) {
        Presenter p = new Presenter(store);
        Set<OpId> names = new HashSet<>();
        for (Envelope e : batch) {
            OpId target = e.op() instanceof Op.Remove r ? r.edge() : e.op() instanceof Op.Move m ? m.replaced() : null;
            EdgeRecord edge = target == null ? null : store.edge(target);
            if (edge != null && p.live(edge)) {
                names.add(target);
            }
        }
        return names.size();
    }

    /** How many names the tree shows (files, directories, links; merged directories once; no conflict copies). */
    public long liveNames() {
        return new Presenter(store).names();
    }

    // ---- presentation

    /** The whole presented tree, for tests and digests. */
    public Tree tree() {
        return new Presenter(store).tree();
    }

    /** The entry shown at {@code path}, as stat shows it. */
    public Tree.Entry stat(String path) throws SyncException {
        Presenter p = new Presenter(store);
        return p.entry(p.resolve(path));
    }

    /** The names shown in directory {@code path}, in name order. */
    public List<String> list(String path) throws SyncException {
        Presenter p = new Presenter(store);
        Shown s = p.resolve(path);
        if (!(s instanceof Dir d)) {
            throw new SyncException(Kind.ENOTDIR, path + " is not a directory");
        }
        return new ArrayList<>(p.list(d).keySet());
    }

    /**
     * One entry a directory shows, with what a mount needs to keep its namespace in step:
     * {@code nodes} are the directory's nodes (several when merged) or the one node shown;
     * {@code vv} is the shown content version's vector (regular files with content), else null;
     * {@code changed} the last operation on what is shown (a copy: its version), which moves
     * whenever anything in the entry changes.
     */
    public record Listed(String name, Tree.Entry entry, List<OpId> nodes, VersionVector vv, OpId changed) {
    }

    /** What directory {@code path} shows, by name (conflict copies included). */
    public List<Listed> listing(String path) throws SyncException {
        Presenter p = new Presenter(store);
        Shown s = p.resolve(path);
        if (!(s instanceof Dir d)) {
            throw new SyncException(Kind.ENOTDIR, path + " is not a directory");
        }
        List<Listed> out = new ArrayList<>();
        for (Map.Entry<String, Shown> c : p.list(d).entrySet()) {
            out.add(listed(p, store, c.getKey(), c.getValue()));
        }
        return out;
    }

    /** The entry shown at {@code path} ("/" included), as {@link #listing} shows it. */
    public Listed shown(String path) throws SyncException {
        Presenter p = new Presenter(store);
        return listed(p, store, Paths.parts(path).isEmpty() ? "" : Paths.name(path), p.resolve(path));
    }

    private static Listed listed(Presenter p, ReplicaStore store, String name, Shown s) {
        Tree.Entry entry = p.entry(s);
        if (s instanceof Dir d) {
            OpId changed = OpId.ROOT;
            for (OpId node : d.nodes()) {
                OpId t = store.node(node).touched();
                changed = t.after(changed) ? t : changed;
            }
            return new Listed(name, entry, d.nodes(), null, changed);
        }
        if (s instanceof Copy c) {
            return new Listed(name, entry, List.of(c.node().id()), c.version().vv(), c.version().id());
        }
        NodeRecord n = ((Named) s).node();
        VersionVector vv = n.versions().isEmpty() ? null : n.versions().get(n.versions().size() - 1).vv();
        return new Listed(name, entry, List.of(n.id()), vv, n.touched());
    }

    /** The path directory {@code dir} is shown at, or null when it is not shown (removed, or not a directory). */
    public String pathOf(OpId dir) {
        if (dir.equals(OpId.ROOT)) {
            return "/";
        }
        Presenter p = new Presenter(store);
        List<String> names = new ArrayList<>();
        OpId cur = dir;
        Set<OpId> seen = new HashSet<>();
        while (!cur.equals(OpId.ROOT)) {
            NodeRecord n = store.node(cur);
            if (n == null || !n.isDirectory() || !seen.add(cur)) {
                return null;
            }
            EdgeRecord live = null;
            for (EdgeRecord e : store.edgesOf(cur)) {
                if (p.live(e)) {
                    live = e;
                    break;
                }
            }
            if (live == null) {
                return null;
            }
            names.add(live.placement().name());
            cur = live.placement().parent();
        }
        StringBuilder path = new StringBuilder();
        for (int i = names.size() - 1; i >= 0; i--) {
            path.append('/').append(names.get(i));
        }
        try {
            return p.resolve(path.toString()) instanceof Dir d && d.nodes().contains(dir) ? path.toString() : null;
        } catch (SyncException e) {
            return null;
        }
    }

    /**
     * The directories whose listing {@code op} may change, as this replica's state stands now (a
     * caller asks before and after applying it): the directory of every name it touches, and,
     * unless it only sets attributes, the parent of every removed ancestor, whose liveness a create,
     * write or removal below it can change. Null for a directory move: undoing and redoing later moves may place
     * any directory elsewhere, so everything may change.
     */
    public Set<OpId> touchedDirs(Op op) {
        Set<OpId> dirs = new HashSet<>();
        OpId node = null;
        if (op instanceof Op.Create c) {
            dirs.add(c.parent());
        } else if (op instanceof Op.Link l) {
            dirs.add(l.parent());
        } else if (op instanceof Op.Move m) {
            EdgeRecord e = store.edge(m.edge());
            if (e != null && store.node(e.node()) != null && store.node(e.node()).isDirectory()) {
                return null;
            }
            dirs.add(m.parent());
            if (e != null) {
                dirs.add(e.placement().parent());
            }
        } else if (op instanceof Op.Remove r) {
            EdgeRecord e = store.edge(r.edge());
            if (e != null) {
                dirs.add(e.placement().parent());
            }
        } else if (op instanceof Op.SetAttr a) {
            node = a.node();
        } else if (op instanceof Op.SetXattr x) {
            node = x.node();
        } else if (op instanceof Op.Write w) {
            node = w.node();
        }
        if (node != null) {
            if (node.equals(OpId.ROOT)) {
                dirs.add(OpId.ROOT);
            }
            for (EdgeRecord e : store.edgesOf(node)) {
                dirs.add(e.placement().parent());
            }
        }
        if (op instanceof Op.SetAttr || op instanceof Op.SetXattr) {
            return dirs;
        }
        Set<OpId> all = new HashSet<>(dirs);
        for (OpId d : dirs) {
            // A directory whose name was removed may die or come back with what happens below it:
            // then the listing of its parent changes. Only such tombstoned ancestors matter.
            OpId cur = d;
            Set<OpId> walked = new HashSet<>();
            while (!cur.equals(OpId.ROOT) && walked.add(cur)) {
                List<EdgeRecord> up = store.edgesOf(cur);
                if (up.isEmpty()) {
                    break;
                }
                for (EdgeRecord e : up) {
                    if (e.removal() != null) {
                        all.add(e.placement().parent());
                    }
                }
                cur = up.get(0).placement().parent();
            }
        }
        return all;
    }

    /** How many content versions a file holds (more than one: conflict copies are shown). */
    public int versionCount(OpId node) {
        NodeRecord n = store.node(node);
        return n == null ? 0 : n.versions().size();
    }

    /** The stored record of {@code node} (null: this replica does not hold it), as the last operation left it. */
    public NodeRecord node(OpId node) {
        return store.node(node);
    }

    /** The directories holding a name of {@code node}. */
    public Set<OpId> parentsOf(OpId node) {
        Set<OpId> out = new HashSet<>();
        for (EdgeRecord e : store.edgesOf(node)) {
            out.add(e.placement().parent());
        }
        return out;
    }

    // ---- helpers

    private Envelope emit(Function<OpId, Op> make) {
        Op op = make.apply(new OpId(clock.next(), site));
        // Every peer checks what it applies; an operation they would refuse must never enter the log.
        merge.check(op);
        Map<String, Long> deps = store.cursors();
        Envelope e = new Envelope(site, deps.getOrDefault(site, 0L) + 1, deps, op);
        commit(e);
        return e;
    }

    /**
     * Commits an operation with its cursor and, for this site's own, its log entry. The stored
     * clock is written only when the clock stands past what the log shows: after an own operation
     * it is that operation's stamp, which the log's last entry already holds ({@link #lastOwnStamp}
     * reads it back), so a local change writes one record fewer.
     */
    private void commit(Envelope e) {
        boolean own = e.site().equals(site);
        store.transaction(() -> {
            merge.apply(e.op());
            store.putCursor(e.site(), e.seq());
            long last = clock.last();
            if (!own || last != e.op().id().hlc()) {
                store.putClock(last);
            }
            if (own) {
                store.appendOwn(e);
            }
        });
    }

    /**
     * The stamp of the last entry of {@code site}'s own log in {@code store} (0 when it has none):
     * with the stored clock, the largest stamp the site issued or observed (see {@link #commit}).
     */
    private static long lastOwnStamp(ReplicaStore store, String site) {
        long seq = store.cursors().getOrDefault(site, 0L);
        if (seq == 0) {
            return 0;
        }
        List<Envelope> tail = store.ownLog(seq - 1);
        return tail.isEmpty() ? 0 : tail.get(tail.size() - 1).op().id().hlc();
    }

    /** The parent directory of {@code path}, checked to exist and to show no entry at the path's name. */
    private static Dir freeName(Presenter p, String path) throws SyncException {
        List<String> parts = Paths.parts(path);
        if (parts.isEmpty()) {
            throw new SyncException(Kind.EEXIST, "/ exists");
        }
        Shown parent = p.resolve(Paths.parent(path));
        if (!(parent instanceof Dir d)) {
            throw new SyncException(Kind.ENOTDIR, Paths.parent(path) + " is not a directory");
        }
        if (p.child(d, parts.get(parts.size() - 1)) != null) {
            throw new SyncException(Kind.EEXIST, path + " exists");
        }
        return d;
    }

    private static Named named(Shown s, String path) throws SyncException {
        if (s instanceof Dir) {
            throw new SyncException(Kind.EPERM, path + " is a directory; directories cannot have hard links");
        }
        if (s instanceof Copy) {
            throw new SyncException(Kind.EROFS, path + " is a conflict copy (read-only); rename it to keep it as a file");
        }
        return (Named) s;
    }

    private static OpId writableNode(Shown s, String path) throws SyncException {
        if (s instanceof Copy) {
            throw new SyncException(Kind.EROFS, path + " is a conflict copy (read-only); rename it to keep it as a file");
        }
        return s instanceof Dir d ? d.winner() : ((Named) s).node().id();
    }

    /** What a remover of {@code e} has seen: its placement and the content versions of its node. */
    private Op.Seen seen(EdgeRecord e) {
        return new Op.Seen(e.placement().stamp(), joined(store.node(e.node())));
    }

    private static VersionVector joined(NodeRecord n) {
        VersionVector vv = VersionVector.EMPTY;
        for (NodeRecord.Version v : n.versions()) {
            vv = vv.join(v.vv());
        }
        return vv;
    }

    /**
     * Drops a sibling: the winner's content again, as a version that has seen both (and nothing
     * else). Its vector is join(winner, sibling) with this site's count incremented, as for a write,
     * or marked by its operation id (see {@link #ownCountFree}).
     */
    private Envelope discard(Copy c) {
        NodeRecord n = c.node();
        NodeRecord.Version winner = n.versions().get(n.versions().size() - 1);
        VersionVector both = winner.vv().join(c.version().vv());
        boolean free = ownCountFree(both, n);
        return emit(id -> new Op.Write(id, n.id(), free ? both.increment(site) : both.increment(id.toString()),
                winner.content(), n.mtimeNs().value()));
    }

    /**
     * Whether a new version that has seen {@code seen} may be counted under this site's next count:
     * not when another version of this site lies outside {@code seen}, since that count would claim
     * to have seen it too and drop it (or equal another version's vector); the new version is then
     * marked by a key of its own, its operation id.
     */
    private boolean ownCountFree(VersionVector seen, NodeRecord n) {
        return seen.get(site) == joined(n).get(site);
    }

    /**
     * Renaming a conflict copy keeps its version as a file of its own: a Create and a Write of the
     * sibling's content at the new name, then the sibling is dropped from the original.
     */
    private Envelope keep(Copy c, Dir parent, String name) {
        NodeRecord n = c.node();
        Envelope created = emit(id -> new Op.Create(id, parent.winner(), name, n.type() | n.perm().value(),
                n.uid().value(), n.gid().value(), 0, null));
        OpId file = created.op().id();
        VersionVector vv = new VersionVector(Map.of(file.site(), 1L)).increment(site);
        emit(id -> new Op.Write(id, file, vv, c.version().content(), c.version().mtimeNs()));
        return discard(c);
    }

    /** A rename of a directory onto itself: a no-op for the user, logged as a move to where it is. */
    private Envelope touch(Dir d) {
        Envelope last = null;
        for (EdgeRecord e : d.edges()) {
            last = emit(id -> new Op.Move(id, e.id(), e.placement().parent(), e.placement().name(), null, null));
        }
        return last;
    }
}
