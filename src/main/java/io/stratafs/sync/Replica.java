package io.stratafs.sync;

import io.stratafs.clock.Hlc;
import io.stratafs.sync.Presenter.Copy;
import io.stratafs.sync.Presenter.Dir;
import io.stratafs.sync.Presenter.Named;
import io.stratafs.sync.Presenter.Shown;
import io.stratafs.sync.SyncException.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * One site's replica of the namespace: local operations, checked against the tree this site
 * presents and appended to its own log, and the application of every site's log in causal order.
 * Sites that applied the same envelopes present the same tree whatever the order: the merge rules
 * are in {@link Merge}, what is shown (liveness, merged directories, conflict copies) in
 * {@link Presenter}.
 *
 * <p>Each local operation appends exactly one envelope to the log. On a merged directory it acts on
 * the winner (largest placement stamp): rmdir removes the winner's name, so the other directories
 * still show at the name until removed in turn; rename moves the winner with its own children.
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
    public Replica(String site, LongSupplier wallMillis, ReplicaStore store) {
        if (site == null || site.isEmpty()) {
            throw new IllegalArgumentException("a replica needs a site name");
        }
        this.site = site;
        this.store = store;
        this.clock = new Hlc(wallMillis, store.clock());
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
        Shown replaced = p.list(parent).get(name);
        if (moving instanceof Copy) {
            throw new SyncException(Kind.EROFS, src + " is a conflict copy; keepConflictCopy makes it a file of its own");
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
            if (!p.list(rd).isEmpty()) {
                throw new SyncException(Kind.ENOTEMPTY, dst + " is a directory that is not empty");
            }
        } else if (replaced instanceof Named && moving instanceof Dir) {
            throw new SyncException(Kind.ENOTDIR, src + " is a directory; " + dst + " is not");
        }
        EdgeRecord gone = replaced instanceof Dir rd ? rd.edges().get(0)
                : replaced instanceof Named r ? r.edge() : null;
        EdgeRecord moved = moving instanceof Dir md ? md.edges().get(0) : ((Named) moving).edge();
        return emit(id -> new Op.Move(id, moved.id(), parent.winner(), name, gone == null ? null : gone.id(),
                gone == null ? null : seen(gone)));
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
        if (!p.list(d).isEmpty()) {
            throw new SyncException(Kind.ENOTEMPTY, path + " is a directory that is not empty");
        }
        EdgeRecord winner = d.edges().get(0);
        return emit(id -> new Op.Remove(id, winner.id(), seen(winner)));
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

    /** Discards the sibling version shown at the conflict-copy path (the winner stays). */
    public Envelope discardConflictCopy(String path) throws SyncException {
        Shown s = new Presenter(store).resolve(path);
        if (!(s instanceof Copy c)) {
            throw new SyncException(Kind.EINVAL, path + " is not a conflict copy");
        }
        return discard(c);
    }

    /**
     * Keeps the sibling shown at conflict-copy {@code path} as a file of its own at the free path
     * {@code newPath} (what renaming a copy means to a user): a Create and a Write of the sibling's
     * content there, then the sibling is discarded from the original. Three log entries; all three
     * are returned, in order.
     */
    public List<Envelope> keepConflictCopy(String path, String newPath) throws SyncException {
        Presenter p = new Presenter(store);
        Shown s = p.resolve(path);
        if (!(s instanceof Copy c)) {
            throw new SyncException(Kind.EINVAL, path + " is not a conflict copy");
        }
        Dir parent = freeName(p, newPath);
        String name = Paths.name(newPath);
        NodeRecord n = c.node();
        Envelope created = emit(id -> new Op.Create(id, parent.winner(), name, n.type() | n.perm().value(),
                n.uid().value(), n.gid().value(), 0, null));
        OpId file = created.op().id();
        VersionVector vv = new VersionVector(Map.of(file.site(), 1L)).increment(site);
        Envelope written = emit(id -> new Op.Write(id, file, vv, c.version().content(), c.version().mtimeNs()));
        return List.of(created, written, discard(c));
    }

    // ---- exchange

    /** This site's log from position {@code afterSeq} on (what a peer has not applied yet). */
    public List<Envelope> log(long afterSeq) {
        return store.ownLog(afterSeq);
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
     * from an older state. An envelope already applied is ignored; one whose causes are missing is refused.
     */
    public void apply(Envelope e) {
        if (e.seq() <= store.cursors().getOrDefault(e.site(), 0L)) {
            return;
        }
        if (!ready(e)) {
            throw new IllegalArgumentException("envelope " + e.site() + "#" + e.seq()
                    + " arrived before its causes (its site's previous envelope or its deps " + e.deps() + ")");
        }
        clock.observe(e.op().id().hlc());
        commit(e);
    }

    /** Per site: the last log position applied (this site's own included). */
    public Map<String, Long> cursors() {
        return store.cursors();
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

    // ---- helpers

    private Envelope emit(Function<OpId, Op> make) {
        Op op = make.apply(new OpId(clock.next(), site));
        Map<String, Long> deps = store.cursors();
        Envelope e = new Envelope(site, deps.getOrDefault(site, 0L) + 1, deps, op);
        commit(e);
        return e;
    }

    private void commit(Envelope e) {
        store.transaction(() -> {
            merge.apply(e.op());
            store.putCursor(e.site(), e.seq());
            store.putClock(clock.last());
            if (e.site().equals(site)) {
                store.appendOwn(e);
            }
        });
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
        if (p.list(d).containsKey(parts.get(parts.size() - 1))) {
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

    /** Drops a sibling: the winner's content again, as a version that has seen both. */
    private Envelope discard(Copy c) {
        NodeRecord n = c.node();
        NodeRecord.Version winner = n.versions().get(n.versions().size() - 1);
        VersionVector vv = winner.vv().join(c.version().vv()).increment(site);
        return emit(id -> new Op.Write(id, n.id(), vv, winner.content(), n.mtimeNs().value()));
    }

    /** A rename of a directory onto itself: a no-op for the user, logged as a move to where it is. */
    private Envelope touch(Dir d) {
        EdgeRecord e = d.edges().get(0);
        return emit(id -> new Op.Move(id, e.id(), e.placement().parent(), e.placement().name(), null, null));
    }
}
