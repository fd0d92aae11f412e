package io.stratafs.mount;

import io.stratafs.cache.BlockCache;
import io.stratafs.journal.LmdbReplicaStore;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Namespace;
import io.stratafs.meta.Table;
import io.stratafs.sync.Envelope;
import io.stratafs.sync.Manifest;
import io.stratafs.sync.NodeRecord;
import io.stratafs.sync.Op;
import io.stratafs.sync.OpId;
import io.stratafs.sync.Paths;
import io.stratafs.sync.Replica;
import io.stratafs.sync.SyncException;
import io.stratafs.sync.Tree;
import io.stratafs.sync.VersionVector;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.KernelCache;
import io.stratafs.vfs.NamespaceLog;
import io.stratafs.vfs.Vfs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A mounted site's namespace tables and its replica, kept in step.
 *
 * <p>Local changes: the VFS calls the {@link NamespaceLog} hooks inside each change's transaction;
 * the bridge makes the same change to the replica (a path-based operation, since the namespace
 * shows exactly what the replica presents) in that transaction, and records which replica entry
 * the inode is. A file's new content is logged as one Write when it settles (last close, fsync, a
 * truncate of a closed file), based on the version the inode showed; until then the inode is marked
 * in SITE_PENDING, so a crash in between logs it at the next mount.
 *
 * <p>Peer changes: {@link #apply} applies a batch of envelopes to the replica and then reconciles
 * every directory whose listing they may change, all in one transaction: names the replica no longer
 * shows go, names it newly shows get the inode already mapped to that entry (a move keeps the
 * inode) or a new one, and attributes, xattrs and content follow the replica. A file open here keeps
 * its content until its last handle closes; the new content shows on its next open.
 *
 * <p>The map: SITE_KEY (replica key → inode) and SITE_INO (inode → key, shown version and vector,
 * last synced change stamp). A merged directory is one inode for all its nodes. Lock order: the
 * LMDB writer lock, then nothing of the replica's (the daemon holds the replica's monitor before
 * it opens the write transaction; local calls never take that monitor).
 */
public final class SiteBridge implements NamespaceLog {
    private final Kv kv;
    private final LmdbReplicaStore store;
    private final Replica replica;
    private final Vfs vfs;
    private final BlockCache cache;
    private volatile Runnable nudge = () -> {
    };
    /**
     * Whether this thread's VFS transaction logged a local change: the daemon is nudged once it ended
     * ({@link #transactionEnded}), when a publisher it wakes can read the change.
     */
    private final ThreadLocal<boolean[]> changedHere = ThreadLocal.withInitial(() -> new boolean[1]);
    /** Announcements to the kernel run here, after the transaction (see {@link Stale}). */
    private final java.util.concurrent.ExecutorService announcer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stratafs-sync-announce");
        t.setDaemon(true);
        return t;
    });
    /** Inodes open here when a peer's newer content arrived: synced when their last handle closes. */
    private final Set<Long> deferred = ConcurrentHashMap.newKeySet();
    private volatile String refusal;
    /** The kernel to tell which names and inodes a peer's change made stale (after the change commits). */
    private volatile KernelCache kernel = KernelCache.NONE;

    public SiteBridge(Kv kv, LmdbReplicaStore store, Replica replica, Vfs vfs, BlockCache cache) {
        this.kv = kv;
        this.store = store;
        this.replica = replica;
        this.vfs = vfs;
        this.cache = cache;
    }

    /**
     * Tells {@code kernel} about every name and inode a peer's change (or a peer's version shown at
     * last close) made different from what this mount's kernel was told, once the change committed.
     */
    public void tellKernel(KernelCache kernel) {
        this.kernel = kernel;
    }

    /**
     * Called after each local operation is committed (the daemon publishes at once), on the thread
     * that made it, so it must be cheap and take no lock a FUSE request could wait on for long
     * ({@link io.stratafs.sync.SiteDaemon#localChange} counts, and wakes its publisher only when idle).
     */
    public void onLocalChange(Runnable nudge) {
        this.nudge = nudge;
    }

    // ---- the map ------------------------------------------------------------------------------

    /** What SITE_INO holds for one inode. */
    record Mapped(byte[] key, OpId version, VersionVector vv, OpId synced) {
    }

    static byte[] key(OpId node, OpId version) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            id(out, node);
            if (version != null) {
                id(out, version);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    static OpId nodeOf(byte[] key) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(key))) {
            return new OpId(in.readLong(), in.readUTF());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void id(DataOutputStream out, OpId id) throws IOException {
        out.writeLong(id.hlc());
        out.writeUTF(id.site());
    }

    private static byte[] encode(Mapped m) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeByte(1);
            id(out, m.synced());
            out.writeShort(m.key().length);
            out.write(m.key());
            out.writeBoolean(m.version() != null);
            if (m.version() != null) {
                id(out, m.version());
            }
            Map<String, Long> counts = m.vv() == null ? Map.of() : m.vv().counts();
            out.writeInt(counts.size());
            for (Map.Entry<String, Long> c : new java.util.TreeMap<>(counts).entrySet()) {
                out.writeUTF(c.getKey());
                out.writeLong(c.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    private static Mapped decode(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readByte() != 1) {
                throw new IllegalStateException("an inode's site record has an unknown version");
            }
            OpId synced = new OpId(in.readLong(), in.readUTF());
            byte[] key = new byte[in.readShort()];
            in.readFully(key);
            OpId version = in.readBoolean() ? new OpId(in.readLong(), in.readUTF()) : null;
            int n = in.readInt();
            Map<String, Long> counts = new HashMap<>();
            for (int i = 0; i < n; i++) {
                counts.put(in.readUTF(), in.readLong());
            }
            return new Mapped(key, version, new VersionVector(counts), synced);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Mapped mapped(KvTxn txn, long ino) {
        byte[] b = txn.get(Table.SITE_INO, Bytes.longKey(ino));
        return b == null ? null : decode(b);
    }

    private static void map(KvWriteTxn txn, long ino, List<byte[]> keys, Mapped m) {
        Mapped old = mapped(txn, ino);
        if (old != null && !keys.stream().anyMatch(k -> java.util.Arrays.equals(k, old.key()))) {
            unmapKey(txn, old.key(), ino);
        }
        for (byte[] k : keys) {
            txn.put(Table.SITE_KEY, k, Bytes.longKey(ino));
        }
        txn.put(Table.SITE_INO, Bytes.longKey(ino), encode(m));
    }

    private static void unmapKey(KvWriteTxn txn, byte[] key, long ino) {
        byte[] cur = txn.get(Table.SITE_KEY, key);
        if (cur != null && Bytes.getLong(cur, 0) == ino) {
            txn.delete(Table.SITE_KEY, key);
        }
    }

    private static void unmap(KvWriteTxn txn, long ino) {
        Mapped old = mapped(txn, ino);
        if (old != null) {
            unmapKey(txn, old.key(), ino);
            txn.delete(Table.SITE_INO, Bytes.longKey(ino));
        }
        txn.delete(Table.SITE_PENDING, Bytes.longKey(ino));
    }

    /** The keys a listed entry is known by: each node of a directory, the node of a file, node + version of a copy. */
    private static List<byte[]> keys(Replica.Listed l) {
        if (l.entry().conflictCopy()) {
            return List.of(key(l.nodes().get(0), l.entry().version()));
        }
        List<byte[]> out = new ArrayList<>(l.nodes().size());
        for (OpId n : l.nodes()) {
            out.add(key(n, null));
        }
        return out;
    }

    /** The live inode mapped to a listed entry, or 0. */
    private static long inoFor(KvTxn txn, Replica.Listed l) {
        for (byte[] k : keys(l)) {
            byte[] v = txn.get(Table.SITE_KEY, k);
            if (v != null) {
                long ino = Bytes.getLong(v, 0);
                Inode inode = Namespace.inode(txn, ino);
                if (inode != null && (inode.mode() & Inode.S_IFMT) == (l.entry().mode() & Inode.S_IFMT)) {
                    return ino;
                }
            }
        }
        return 0;
    }

    // ---- local changes ------------------------------------------------------------------------

    @FunctionalInterface
    private interface LocalOp {
        Envelope run() throws SyncException;
    }

    /**
     * Refuses local changes with EROFS and {@code reason} (null: accepts them again): while a cache
     * restored from storage catches up with this site's published log, a change would take a log
     * position that is already published.
     */
    public void refuseChanges(String reason) {
        this.refusal = reason;
    }

    /** Runs a replica operation inside the VFS's transaction; a refusal aborts the change with its errno. */
    private Envelope local(KvWriteTxn txn, LocalOp op) throws FsException {
        String refused0 = refusal;
        if (refused0 != null) {
            throw new FsException(Errno.EROFS, refused0);
        }
        Envelope done = inReplica(txn, op, "change");
        changedHere.get()[0] = true;
        return done;
    }

    /** Runs {@code op} on the replica inside {@code txn}; its refusal becomes an FsException naming {@code what} was refused. */
    private Envelope inReplica(KvWriteTxn txn, LocalOp op, String what) throws FsException {
        SyncException[] refused = {null};
        Envelope[] done = {null};
        store.within(txn, () -> {
            try {
                done[0] = op.run();
            } catch (SyncException e) {
                refused[0] = e;
            }
        });
        if (refused[0] != null) {
            throw new FsException(errno(refused[0].kind()), "the site's replica refused the " + what + ": " + refused[0].getMessage());
        }
        return done[0];
    }

    /**
     * Nudges the daemon once per VFS transaction that logged a change, after it ended. On the
     * caller's thread: handing each nudge to a thread of its own cost a context switch per change
     * (a fifth of the daemon's samples on `rm -rf` were context switches, issue 9).
     */
    @Override
    public void transactionEnded() {
        boolean[] changed = changedHere.get();
        if (changed[0]) {
            changed[0] = false;
            nudge();
        }
    }

    private void nudge() {
        nudge.run();
    }

    /** Stops the announcing thread. */
    public void close() {
        announcer.shutdown();
    }

    private static Errno errno(SyncException.Kind kind) {
        return switch (kind) {
            case ENOENT -> Errno.ENOENT;
            case EEXIST -> Errno.EEXIST;
            case ENOTEMPTY -> Errno.ENOTEMPTY;
            case ENOTDIR -> Errno.ENOTDIR;
            case EISDIR -> Errno.EISDIR;
            case EINVAL -> Errno.EINVAL;
            case EPERM -> Errno.EPERM;
            case EROFS -> Errno.EROFS;
        };
    }

    /** Records what the replica shows at {@code path} as inode {@code ino}'s entry (after a local change there). */
    private void remember(KvWriteTxn txn, String path, long ino) throws FsException {
        store.within(txn, () -> {
            try {
                Replica.Listed l = replica.shown(path);
                Mapped old = mapped(txn, ino);
                if (old != null && keys(l).stream().noneMatch(k -> java.util.Arrays.equals(k, old.key()))) {
                    // A conflict copy renamed: it is a file of its own now, shown as the replica made it.
                    sync(txn, ino, l, true);
                    return;
                }
                OpId version = l.entry().version() != null ? l.entry().version() : old == null ? null : old.version();
                VersionVector vv = l.vv() != null ? l.vv() : old == null ? VersionVector.EMPTY : old.vv();
                map(txn, ino, keys(l), new Mapped(keys(l).get(0), version, vv, l.changed()));
            } catch (SyncException e) {
                throw new IllegalStateException("the replica does not show " + path + " after changing it: " + e.getMessage(), e);
            }
        });
    }

    /**
     * Records a name this site just created as inode {@code ino}'s entry without asking the replica
     * to show it again (which resolves the path a second time and reads the new node back): the
     * replica checked the name was free, so it shows exactly the new node, whose last change and
     * (for a regular file) only version are the Create itself. Returns false, recording nothing,
     * when the inode is already mapped (an import of a name a peer made): {@link #remember} then
     * decides.
     */
    private boolean rememberCreated(KvWriteTxn txn, long ino, Op.Create c) {
        byte[] inoKey = Bytes.longKey(ino);
        if (txn.contains(Table.SITE_INO, inoKey)) {
            return false;
        }
        OpId id = c.id();
        boolean regular = (c.mode() & Inode.S_IFMT) == Inode.S_IFREG;
        byte[] k = key(id, null);
        txn.put(Table.SITE_KEY, k, inoKey);
        txn.put(Table.SITE_INO, inoKey, encode(new Mapped(k, regular ? id : null,
                regular ? Replica.createdVector(id) : VersionVector.EMPTY, id)));
        return true;
    }

    /** Test seam: what SITE_INO records for {@code ino} (null: nothing). */
    Mapped mappingOf(long ino) {
        return kv.read(txn -> mapped(txn, ino));
    }

    /** Test seam: what {@link #remember} would record for {@code ino} shown at {@code path}, computed from the replica. */
    Mapped shownMapping(String path) {
        return kv.read(txn -> store.reading(txn, () -> {
            try {
                Replica.Listed l = replica.shown(path);
                return new Mapped(keys(l).get(0), l.entry().version(), l.vv() != null ? l.vv() : VersionVector.EMPTY, l.changed());
            } catch (SyncException e) {
                throw new IllegalStateException(e);
            }
        }));
    }

    @Override
    public void created(KvWriteTxn txn, String path, Inode inode, byte[] symlinkTarget) throws FsException {
        Envelope e = local(txn, () -> replica.create(path, inode.mode(), inode.uid(), inode.gid(), inode.rdev(), symlinkTarget));
        if (!rememberCreated(txn, inode.ino(), (Op.Create) e.op())) {
            remember(txn, path, inode.ino());
        }
    }

    @Override
    public void linked(KvWriteTxn txn, String existing, String newPath, long ino) throws FsException {
        local(txn, () -> replica.link(existing, newPath));
        remember(txn, newPath, ino);
    }

    @Override
    public void renamed(KvWriteTxn txn, String from, String to, long ino) throws FsException {
        local(txn, () -> replica.rename(from, to));
        remember(txn, to, ino);
    }

    @Override
    public void removed(KvWriteTxn txn, String path, long ino) throws FsException {
        local(txn, () -> replica.remove(path));
        Inode inode = Namespace.inode(txn, ino);
        if (inode == null) {
            unmap(txn, ino);
        }
    }

    @Override
    public void attributes(KvWriteTxn txn, String path, int mask, Inode after) throws FsException {
        int m = ((mask & MODE) != 0 ? Op.SetAttr.MODE : 0) | ((mask & UID) != 0 ? Op.SetAttr.UID : 0)
                | ((mask & GID) != 0 ? Op.SetAttr.GID : 0) | ((mask & ATIME) != 0 ? Op.SetAttr.ATIME : 0)
                | ((mask & MTIME) != 0 ? Op.SetAttr.MTIME : 0);
        Envelope e = local(txn, () -> replica.setAttr(path, m, after.mode(), after.uid(), after.gid(), after.atimeNs(), after.mtimeNs()));
        if (!rememberChanged(txn, after.ino(), ((Op.SetAttr) e.op()).node())) {
            remember(txn, path, after.ino());
        }
    }

    @Override
    public void xattr(KvWriteTxn txn, String path, long ino, String name, byte[] valueOrNull) throws FsException {
        Envelope e = local(txn, () -> replica.setXattr(path, name, valueOrNull));
        if (!rememberChanged(txn, ino, ((Op.SetXattr) e.op()).node())) {
            remember(txn, path, ino);
        }
    }

    /**
     * Records a local attribute or xattr change of {@code node}, not a directory, without showing
     * the path again (utimens and chmod follow every file tar unpacks): the change leaves the name
     * on the same node, so the entry is the node's own, and only the node's record (its last change,
     * its newest version) is read. Returns false, recording nothing, for a directory (possibly
     * merged from several nodes) or an inode not recorded as this node: {@link #remember} decides.
     */
    private boolean rememberChanged(KvWriteTxn txn, long ino, OpId node) {
        Mapped old = mapped(txn, ino);
        byte[] k = key(node, null);
        if (old == null || !java.util.Arrays.equals(old.key(), k)) {
            return false;
        }
        NodeRecord[] n = {null};
        store.within(txn, () -> n[0] = replica.node(node));
        if (n[0] == null || n[0].isDirectory()) {
            return false;
        }
        List<NodeRecord.Version> versions = n[0].versions();
        NodeRecord.Version newest = versions.isEmpty() ? null : versions.get(versions.size() - 1);
        byte[] inoKey = Bytes.longKey(ino);
        byte[] mappedTo = txn.get(Table.SITE_KEY, k);
        if (mappedTo == null || Bytes.getLong(mappedTo, 0) != ino) {
            txn.put(Table.SITE_KEY, k, inoKey);
        }
        txn.put(Table.SITE_INO, inoKey, encode(new Mapped(k, newest == null ? old.version() : newest.id(),
                newest == null ? old.vv() : newest.vv(), n[0].touched())));
        return true;
    }

    @Override
    public void contentChanged(KvWriteTxn txn, long ino) {
        txn.put(Table.SITE_PENDING, Bytes.longKey(ino), new byte[0]);
    }

    @Override
    public void contentSettled(long ino) throws FsException {
        boolean pending = kv.read(txn -> txn.contains(Table.SITE_PENDING, Bytes.longKey(ino)));
        if (!pending && !deferred.contains(ino)) {
            return;
        }
        if (vfs.isOpen(ino)) {
            return; // fsync with other handles open, or an open raced the close: the last close settles it
        }
        if (refusal != null) {
            return; // a Write now could take a log position already published: settleAll logs it once accepted
        }
        boolean[] logged = {false};
        Stale stale = new Stale();
        try (Vfs.Claims claims = vfs.claims()) {
            io.stratafs.vfs.Txns.write(kv, txn -> {
                stale.clear();
                logged[0] = settle(txn, ino);
                boolean waited = deferred.remove(ino);
                Mapped m = mapped(txn, ino);
                // Only a peer's version that waited for this close, or one this write is concurrent
                // with, changes what the file's directories show.
                if (m != null && (waited || replica.versionCount(nodeOf(m.key())) > 1)) {
                    store.within(txn, () -> reconcile(txn, parentsOf(txn, ino), claims, Set.of(), stale));
                }
                return null;
            });
        }
        announce(stale);
        if (logged[0]) {
            nudge();
        }
    }

    /** Logs the committed content of {@code ino} as a Write when it is pending; returns whether it logged one. */
    private boolean settle(KvWriteTxn txn, long ino) throws FsException {
        if (!txn.delete(Table.SITE_PENDING, Bytes.longKey(ino))) {
            return false;
        }
        Inode inode = Namespace.inode(txn, ino);
        Mapped m = mapped(txn, ino);
        if (inode == null || inode.nlink() == 0 || !inode.isRegular() || m == null) {
            return false; // deleted (or never logged): its content goes with it
        }
        List<Manifest.Block> blocks = new ArrayList<>();
        Namespace.blocks(txn, ino, 0, Long.MAX_VALUE, (i, ref) -> blocks.add(new Manifest.Block(i, ref)));
        Manifest content = new Manifest(inode.size(), blocks);
        OpId node = nodeOf(m.key());
        Op.Write w = (Op.Write) inReplica(txn, () -> replica.write(node, m.vv(), content, inode.mtimeNs()), "file's new content").op();
        txn.put(Table.SITE_INO, Bytes.longKey(ino), encode(new Mapped(m.key(), w.id(), w.vv(), w.id())));
        return true;
    }

    /**
     * Logs a namespace that has no operations yet (a volume made before sites existed) as this
     * site's creation of all of it, so peers receive it and local changes to it can be logged.
     * Does nothing once the site has logged anything; names already mapped to the replica (a peer's)
     * are left as they are. Returns the names logged.
     */
    public int importNamespace() throws FsException {
        boolean fresh = replica.cursors().getOrDefault(replica.site(), 0L) == 0
                && kv.read(txn -> !Namespace.list(txn, Namespace.ROOT, null, 1).isEmpty());
        if (!fresh) {
            return 0;
        }
        int[] names = {0};
        io.stratafs.vfs.Txns.write(kv, txn -> {
            Map<Long, String> firstPath = new HashMap<>();
            importDir(txn, "/", Namespace.ROOT, firstPath, names);
            return null;
        });
        nudge();
        return names[0];
    }

    private void importDir(KvWriteTxn txn, String path, long dir, Map<Long, String> firstPath, int[] names) throws FsException {
        for (DirEntry d : Namespace.list(txn, dir, null, Integer.MAX_VALUE)) {
            String child = Paths.child(path, d.name());
            Inode inode = Namespace.inode(txn, d.ino());
            if (!firstPath.containsKey(d.ino()) && mapped(txn, d.ino()) != null) {
                // a peer's, applied before this import ran: already in the replica
                if (inode.isDir()) {
                    importDir(txn, child, d.ino(), firstPath, names);
                }
                continue;
            }
            names[0]++;
            String earlier = firstPath.putIfAbsent(d.ino(), child);
            if (earlier != null) {
                linked(txn, earlier, child, d.ino());
                continue;
            }
            created(txn, child, inode, inode.isSymlink() ? Namespace.symlinkTarget(txn, d.ino()) : null);
            local(txn, () -> replica.setAttr(child, Op.SetAttr.ATIME | Op.SetAttr.MTIME, inode.mode(), inode.uid(), inode.gid(),
                    inode.atimeNs(), inode.mtimeNs()));
            for (String x : Namespace.xattrNames(txn, d.ino())) {
                xattr(txn, child, d.ino(), x, Namespace.xattr(txn, d.ino(), x));
            }
            if (inode.isRegular() && inode.size() > 0) {
                contentChanged(txn, d.ino());
                settle(txn, d.ino());
            }
            remember(txn, child, d.ino());
            if (inode.isDir()) {
                importDir(txn, child, d.ino(), firstPath, names);
            }
        }
    }

    /** Logs what a crash left unlogged (content committed, file never closed): at mount, before the daemon starts. */
    public int settleAll() throws FsException {
        List<Long> inos = kv.read(txn -> {
            List<Long> out = new ArrayList<>();
            txn.scan(Table.SITE_PENDING, new byte[0], (k, v) -> {
                out.add(k.getLong(k.position()));
                return true;
            });
            return out;
        });
        for (long ino : inos) {
            contentSettled(ino);
        }
        return inos.size();
    }

    /** Whether an envelope may be published: a Write only once every block it names is uploaded to each own target. */
    public boolean publishable(Envelope e) {
        if (!(e.op() instanceof Op.Write w) || w.content().blocks().isEmpty()) {
            return true;
        }
        int targets = cache.targets().size();
        return kv.read(txn -> {
            for (Manifest.Block b : w.content().blocks()) {
                for (int t = 0; t < targets; t++) {
                    if (cache.isPending(txn, t, b.ref().hash())) {
                        return false;
                    }
                }
            }
            return true;
        });
    }

    // ---- peer changes -------------------------------------------------------------------------

    /**
     * Applies envelopes in order to the replica and materializes what changed into the namespace,
     * in one transaction. The caller holds the replica's monitor; each envelope is ready once those
     * before it are applied.
     */
    public void apply(List<Envelope> batch) {
        Stale stale = new Stale();
        try (Vfs.Claims claims = vfs.claims()) {
            kv.writeVoid(txn -> store.within(txn, () -> {
                stale.clear(); // a body run again after the store was full starts over
                Set<OpId> dirs = new LinkedHashSet<>();
                Set<OpId> changed = new HashSet<>();
                boolean everything = false;
                for (Envelope e : batch) {
                    OpId node = nodeChangedBy(e.op());
                    if (node != null) {
                        changed.add(node);
                    }
                    Set<OpId> before = replica.touchedDirs(e.op());
                    replica.apply(e);
                    Set<OpId> after = replica.touchedDirs(e.op());
                    if (before == null || after == null) {
                        everything = true;
                    } else {
                        dirs.addAll(before);
                        dirs.addAll(after);
                    }
                }
                reconcile(txn, everything ? null : dirs, claims, changed, stale);
            }));
        }
        announce(stale);
    }

    /**
     * The node whose entry an operation changes. Its entry is synced whatever its last change says:
     * an operation stamped earlier than the node's last one (a peer's chmod before a local touch)
     * changes an attribute without moving that stamp.
     */
    private OpId nodeChangedBy(Op op) {
        if (op instanceof Op.SetAttr a) {
            return a.node();
        }
        if (op instanceof Op.SetXattr x) {
            return x.node();
        }
        if (op instanceof Op.Write w) {
            return w.node();
        }
        if (op instanceof Op.Link l) {
            return l.node();
        }
        return null;
    }

    private Set<OpId> parentsOf(KvTxn txn, long ino) {
        Mapped m = mapped(txn, ino);
        return m == null ? Set.of() : replica.parentsOf(nodeOf(m.key()));
    }

    /**
     * What one reconciliation changed under the kernel: names (parent and name) and inodes (name
     * null). Announced by {@link #announce} after the transaction commits, on the announcer thread:
     * the caller may hold the replica's monitor, which a FUSE call holding a directory's lock in the
     * kernel can be waiting for.
     */
    private static final class Stale {
        final List<Long> parents = new ArrayList<>();
        final List<String> names = new ArrayList<>();

        void entry(long parent, String name) {
            parents.add(parent);
            names.add(name);
        }

        void inode(long ino) {
            parents.add(ino);
            names.add(null);
        }

        void clear() {
            parents.clear();
            names.clear();
        }
    }

    private void announce(Stale stale) {
        KernelCache k = kernel;
        if (k == KernelCache.NONE || stale.parents.isEmpty()) {
            return;
        }
        List<Long> parents = List.copyOf(stale.parents);
        List<String> names = new ArrayList<>(stale.names);
        announcer.execute(() -> {
            Set<Long> inodes = new HashSet<>();
            for (int i = 0; i < parents.size(); i++) {
                if (names.get(i) != null) {
                    k.entryChanged(parents.get(i), names.get(i));
                } else if (inodes.add(parents.get(i))) {
                    k.inodeChanged(parents.get(i));
                }
            }
        });
    }

    /** Test seam: returns once everything announced so far has reached the kernel (the announcer runs tasks in order). */
    void awaitAnnounced() throws Exception {
        announcer.submit(() -> {
        }).get();
    }

    /** One reconciliation: inodes unlinked on the way, and those linked again (a move), deleted at the end if nameless. */
    private final class Pass {
        final KvWriteTxn txn;
        final Vfs.Claims claims;
        final Set<Long> detached = new LinkedHashSet<>();
        final Set<Long> linked = new HashSet<>();
        /** Nodes the batch changed: synced even when their last change stamp did not move. */
        final Set<OpId> changed;
        final Stale stale;

        Pass(KvWriteTxn txn, Vfs.Claims claims, Set<OpId> changed, Stale stale) {
            this.txn = txn;
            this.claims = claims;
            this.changed = changed;
            this.stale = stale;
        }
    }

    /** Reconciles the directories {@code dirs} (null: every directory), shallowest first, then drops nameless inodes. */
    private void reconcile(KvWriteTxn txn, Set<OpId> dirs, Vfs.Claims claims, Set<OpId> changed, Stale stale) {
        Pass pass = new Pass(txn, claims, changed, stale);
        try {
            if (dirs == null) {
                syncRoot(pass);
                reconcileDir(pass, "/", Namespace.ROOT, true);
            } else {
                List<String> paths = new ArrayList<>();
                for (OpId d : dirs) {
                    String p = replica.pathOf(d);
                    if (p != null) {
                        paths.add(p);
                    }
                }
                paths.sort(Comparator.comparingInt((String p) -> p.equals("/") ? 0 : p.split("/").length).thenComparing(p -> p));
                if (dirs.contains(OpId.ROOT)) {
                    syncRoot(pass);
                }
                for (String p : new LinkedHashSet<>(paths)) {
                    long ino = localPath(txn, p);
                    if (ino != 0) {
                        reconcileDir(pass, p, ino, false);
                    }
                }
            }
            for (long ino : new ArrayList<>(pass.detached)) {
                dropIfNameless(pass, ino);
            }
        } catch (SyncException e) {
            throw new IllegalStateException("the replica's listing changed under reconciliation: " + e.getMessage(), e);
        }
    }

    private static long localPath(KvTxn txn, String path) {
        long ino = Namespace.ROOT;
        for (String part : path.substring(1).split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            ino = Namespace.lookup(txn, ino, part);
            if (ino == 0) {
                return 0;
            }
        }
        return ino;
    }

    /**
     * The root's attributes follow the replica once an operation changed them; until then each site
     * keeps the owner and mode it formatted or first mounted with.
     */
    private void syncRoot(Pass pass) throws SyncException {
        Replica.Listed root = replica.shown("/");
        if (mapped(pass.txn, Namespace.ROOT) == null && root.changed().equals(OpId.ROOT)) {
            return;
        }
        sync(pass, Namespace.ROOT, root, pass.changed.contains(OpId.ROOT));
    }

    /** Makes directory {@code ino} list what the replica lists at {@code path}; {@code deep}: its subdirectories too. */
    private void reconcileDir(Pass pass, String path, long ino, boolean deep) throws SyncException {
        KvWriteTxn txn = pass.txn;
        Map<String, Replica.Listed> want = new HashMap<>();
        for (Replica.Listed l : replica.listing(path)) {
            want.put(l.name(), l);
        }
        Map<String, DirEntry> have = new HashMap<>();
        for (DirEntry d : Namespace.list(txn, ino, null, Integer.MAX_VALUE)) {
            have.put(d.name(), d);
        }
        Map<String, Long> target = new HashMap<>();
        for (Replica.Listed l : want.values()) {
            target.put(l.name(), inoFor(txn, l));
        }
        for (DirEntry d : have.values()) {
            Long t = target.get(d.name());
            if (t == null || t != d.ino()) {
                Namespace.unlinkName(txn, ino, d.name());
                pass.stale.entry(ino, d.name());
                detach(pass, d.ino());
            }
        }
        int subdirs = 0;
        List<String> names = new ArrayList<>(want.keySet());
        names.sort(null);
        for (String name : names) {
            Replica.Listed l = want.get(name);
            String childPath = Paths.child(path, name);
            boolean dir = (l.entry().mode() & Inode.S_IFMT) == Inode.S_IFDIR;
            subdirs += dir ? 1 : 0;
            DirEntry d = have.get(name);
            long child = target.get(name);
            if (child == 0) {
                // A second name of a node new here (a Create and a Link in one batch): the first
                // name, earlier in this loop, gave the node its inode; a hard link must share it.
                child = inoFor(txn, l);
            }
            if (d != null && child == d.ino()) {
                sync(pass, child, l, l.nodes().stream().anyMatch(pass.changed::contains));
                if (dir && deep) {
                    reconcileDir(pass, childPath, child, true);
                }
                continue;
            }
            boolean fresh = child == 0;
            if (fresh) {
                child = Namespace.allocateIno(txn);
                Namespace.putInode(txn, new Inode(child, l.entry().mode(), l.entry().uid(), l.entry().gid(), 0, 0, 0, 0, 0, 0));
                if (l.entry().symlinkTarget() != null) {
                    Namespace.putSymlink(txn, child, l.entry().symlinkTarget());
                }
            }
            Namespace.link(txn, ino, name, child, l.entry().mode());
            pass.stale.entry(ino, name);
            pass.linked.add(child);
            sync(pass, child, l, true);
            if (dir && (fresh || deep)) {
                reconcileDir(pass, childPath, child, deep || fresh);
            }
        }
        Inode self = Namespace.inode(txn, ino);
        if (self != null && self.nlink() != 2 + subdirs) {
            Namespace.putInode(txn, self.withNlink(2 + subdirs, self.ctimeNs()));
            pass.stale.inode(ino);
        }
    }

    private void detach(Pass pass, long ino) {
        Inode inode = Namespace.inode(pass.txn, ino);
        if (inode == null || pass.linked.contains(ino)) {
            return; // linked again in this pass: its link count is already the replica's
        }
        int nlink = inode.isDir() ? 0 : Math.max(0, inode.nlink() - 1);
        Namespace.putInode(pass.txn, inode.withNlink(nlink, inode.ctimeNs()));
        pass.stale.inode(ino);
        pass.detached.add(ino);
    }

    /** Deletes an inode left without names (a directory with everything below it that has no other name). */
    private void dropIfNameless(Pass pass, long ino) {
        if (pass.linked.contains(ino)) {
            return;
        }
        Inode inode = Namespace.inode(pass.txn, ino);
        if (inode == null || inode.nlink() > 0) {
            return;
        }
        if (inode.isDir()) {
            for (DirEntry d : Namespace.list(pass.txn, ino, null, Integer.MAX_VALUE)) {
                Namespace.unlinkName(pass.txn, ino, d.name());
                pass.stale.entry(ino, d.name());
                if (!pass.linked.contains(d.ino())) {
                    detach(pass, d.ino());
                    dropIfNameless(pass, d.ino());
                }
            }
        }
        if (pass.claims.claim(ino)) {
            Namespace.deleteInode(pass.txn, ino);
            unmap(pass.txn, ino);
        }
        // else: open here; the last close deletes it as an unlinked open file.
    }

    /** Makes inode {@code ino} show the listed entry: attributes, xattrs, symlink, and content unless open here. */
    private void sync(Pass pass, long ino, Replica.Listed l, boolean force) {
        if (sync(pass.txn, ino, l, force)) {
            pass.stale.inode(ino);
        }
    }

    /** Returns whether it changed anything the kernel may have cached (attributes or content). */
    private boolean sync(KvWriteTxn txn, long ino, Replica.Listed l, boolean force) {
        Mapped m = mapped(txn, ino);
        Tree.Entry e = l.entry();
        boolean sameVersion = m != null && Objects.equals(m.version(), e.version());
        if (!force && m != null && m.synced().equals(l.changed()) && sameVersion) {
            return false;
        }
        Inode inode = Namespace.inode(txn, ino);
        boolean regular = (e.mode() & Inode.S_IFMT) == Inode.S_IFREG;
        long size = inode.size();
        OpId version = m == null ? null : m.version();
        VersionVector vv = m == null ? VersionVector.EMPTY : m.vv();
        if (regular && !sameVersion && e.version() != null) {
            if (vfs.isOpen(ino) || txn.contains(Table.SITE_PENDING, Bytes.longKey(ino))) {
                deferred.add(ino);
            } else {
                Namespace.dropBlocks(txn, ino, 0);
                for (Manifest.Block b : e.content().blocks()) {
                    Namespace.putBlock(txn, ino, b.index(), b.ref());
                }
                size = e.content().size();
                version = e.version();
                vv = l.vv() == null ? VersionVector.EMPTY : l.vv();
            }
        } else if (!regular) {
            size = e.symlinkTarget() != null ? e.symlinkTarget().length : 0;
        }
        // Content written here and not logged yet keeps its own modification time with its size.
        long mtime = regular && txn.contains(Table.SITE_PENDING, Bytes.longKey(ino)) ? inode.mtimeNs() : e.mtimeNs();
        Namespace.putInode(txn, new Inode(ino, e.mode(), e.uid(), e.gid(), e.nlink(), size, e.atimeNs(), mtime,
                Math.max(e.ctimeNs(), mtime), inode.rdev()));
        syncXattrs(txn, ino, e.xattrs());
        map(txn, ino, keys(l), new Mapped(keys(l).get(0), version, vv, l.changed()));
        return true;
    }

    private static void syncXattrs(KvWriteTxn txn, long ino, SortedMap<String, byte[]> want) {
        for (String name : Namespace.xattrNames(txn, ino)) {
            if (!want.containsKey(name)) {
                Namespace.removeXattr(txn, ino, name);
            }
        }
        for (Map.Entry<String, byte[]> x : want.entrySet()) {
            byte[] cur = Namespace.xattr(txn, ino, x.getKey());
            if (!java.util.Arrays.equals(cur, x.getValue())) {
                Namespace.putXattr(txn, ino, x.getKey(), x.getValue());
            }
        }
    }

    // ---- status -------------------------------------------------------------------------------

    /** The digest of the tree this site presents (equal at every site once they applied the same operations). */
    public String digest() {
        // Reads through one transaction, so the digest is of one state.
        return kv.read(txn -> store.reading(txn, () -> replica.tree().digest()));
    }
}
