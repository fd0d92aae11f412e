package io.stratafs.vfs;

import io.stratafs.cache.BlockCache;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Namespace;
import io.stratafs.metrics.VolumeMetrics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * POSIX semantics over the namespace tables and the block cache: path resolution, inodes, handles,
 * link counts, times and file contents.
 *
 * <p>Every namespace change is one LMDB write transaction, so it is atomic and journaled as a
 * whole. File contents go through {@link OpenFiles}. Lock order: an {@link OpenFile} monitor, then
 * the LMDB writer lock, then the cache's monitor.
 */
public final class Vfs implements AutoCloseable {
    public static final int NAME_MAX = 255;
    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;
    public static final int XATTR_SIZE_MAX = 65536;
    /**
     * Computed, never stored: whether a file's content and name are in every storage target. Not
     * listed by listxattr, so that rsync -X, cp --preserve=all and tar --xattrs do not copy a
     * snapshot of it elsewhere (or fail to set it on another StrataFS volume); set and remove give EPERM.
     */
    public static final String SYNCED_XATTR = "user.stratafs.synced";
    /** The nanoseconds of a utimens time that means "now", as utimensat(2) has it. */
    public static final long UTIME_NOW = (1L << 30) - 1;
    /** The nanoseconds of a utimens time that means "leave as it is". */
    public static final long UTIME_OMIT = (1L << 30) - 2;
    /** An expected parent inode that is not checked (the path-based calls). */
    private static final long ANY = 0;

    private final Kv kv;
    private final BlockCache cache;
    private final int blockSize;
    private final Clock clock;
    private final Supplier<FsStats> stats;
    private final OpenFiles files;
    private volatile SyncedAnswer synced;
    private volatile NamespaceLog log = NamespaceLog.NONE;

    /** Answers {@link #SYNCED_XATTR} from the inodes of a path (root first) and its uncommitted bytes. */
    @FunctionalInterface
    public interface SyncedAnswer {
        String describe(long[] chain, long uncommittedBytes);
    }

    public Vfs(Kv kv, BlockCache cache, int blockSize, Clock clock, Supplier<FsStats> stats) {
        this(kv, cache, blockSize, clock, stats, new VolumeMetrics());
    }

    /** {@code metrics} counts the background commits that fail. */
    public Vfs(Kv kv, BlockCache cache, int blockSize, Clock clock, Supplier<FsStats> stats, VolumeMetrics metrics) {
        this.kv = kv;
        this.cache = cache;
        this.blockSize = blockSize;
        this.clock = clock;
        this.stats = stats;
        this.files = new OpenFiles(kv, cache, blockSize, clock, metrics);
    }

    /** Set by the mount, which knows the storage targets; without it the attribute is absent (ENODATA). */
    public void answerSynced(SyncedAnswer answer) {
        this.synced = answer;
    }

    /** Where every namespace change is also logged, inside the change's own transaction (the site's replica). */
    public void logTo(NamespaceLog log) {
        this.log = log;
        files.log = log;
    }

    /** Whether a handle is open on the inode (its content must not change under a reader). */
    public boolean isOpen(long ino) {
        return files.isOpen(ino);
    }

    /**
     * Claims of inodes a caller's transaction deletes, exactly as unlink makes them: a claim fails
     * while the file is open, and an open waits until the claiming transaction is over. A
     * transaction that leaves an inode with no name must claim it: a refused claim is what makes the
     * file's last close free it (that close takes no writer lock otherwise).
     */
    public Claims claims() {
        return files.deletions();
    }

    /** See {@link #claims}. */
    public interface Claims extends AutoCloseable {
        /** Claims {@code ino} for deletion; false when it has an open handle and must stay. */
        boolean claim(long ino);

        @Override
        void close();
    }

    /** Creates the root directory of a new volume, owned by the caller; does nothing when present. */
    public void initRoot(Caller owner) {
        long now = clock.nowNs();
        kv.writeVoid(txn -> {
            if (Namespace.inode(txn, Namespace.ROOT) == null) {
                Namespace.putInode(txn, new Inode(Namespace.ROOT, Inode.S_IFDIR | 0755, owner.uid(), owner.gid(),
                        2, 0, now, now, now, 0));
            }
        });
    }

    /** Deletes inodes left without names by a crash while they were open. */
    public int removeOrphans() {
        return kv.write(txn -> {
            List<Long> orphans = Namespace.orphans(txn);
            for (long ino : orphans) {
                Namespace.deleteInode(txn, ino);
            }
            return orphans.size();
        });
    }

    // ---- path resolution -------------------------------------------------------------------

    static String[] split(String path) throws FsException {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            throw new FsException(Errno.EINVAL, "not an absolute path: " + path);
        }
        String[] parts = path.substring(1).split("/");
        if (parts.length == 1 && parts[0].isEmpty()) {
            return new String[0];
        }
        for (String p : parts) {
            checkName(p);
        }
        return parts;
    }

    static void checkName(String name) throws FsException {
        if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than 255 bytes");
        }
    }

    private long walk(KvTxn txn, String[] parts, int count) throws FsException {
        long ino = Namespace.ROOT;
        for (int i = 0; i < count; i++) {
            ino = existingChild(txn, ino, parts[i]);
        }
        return ino;
    }

    /** The inodes from the root to {@code path}, both included. */
    public long[] resolveChain(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> {
            long[] chain = new long[parts.length + 1];
            chain[0] = Namespace.ROOT;
            for (int i = 0; i < parts.length; i++) {
                chain[i + 1] = existingChild(txn, chain[i], parts[i]);
            }
            return chain;
        });
    }

    /** Bytes that open handles wrote to the file and that are not committed to LMDB yet. */
    public long uncommittedBytes(long ino) {
        return files.uncommittedBytes(ino);
    }

    public long resolve(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> walk(txn, parts, parts.length));
    }

    /** The parent directory's inode of {@code parts}, checked to be a directory. */
    private long parentDir(KvTxn txn, String[] parts) throws FsException {
        return parentDir(txn, parts, ANY);
    }

    /**
     * As {@link #parentDir(KvTxn, String[])}, and checked to be {@code expected} unless that is
     * {@link #ANY}: the kernel names a directory by inode and the site log by path, and another site
     * may have moved a name before the kernel heard of it; a stale path must fail (ENOENT, and the
     * kernel looks the name up again) rather than change another directory. Checking here, in the
     * change's own transaction, costs no walk beyond the one the change makes anyway.
     */
    private long parentDir(KvTxn txn, String[] parts, long expected) throws FsException {
        long parent = walk(txn, parts, parts.length - 1);
        if (expected != ANY && parent != expected) {
            throw moved(parts, parts.length - 1, expected);
        }
        Inode p = Namespace.inode(txn, parent);
        if (p == null) {
            throw new FsException(Errno.ENOENT, "no such directory");
        }
        if (!p.isDir()) {
            throw new FsException(Errno.ENOTDIR, "not a directory");
        }
        return parent;
    }

    /** The error for a path whose first {@code count} parts no longer lead to inode {@code ino}. */
    private static FsException moved(String[] parts, int count, long ino) {
        String path = "/" + String.join("/", java.util.Arrays.asList(parts).subList(0, count));
        return new FsException(Errno.ENOENT, path + " no longer names inode " + ino + "; it was moved meanwhile");
    }

    private long existingChild(KvTxn txn, long parent, String name) throws FsException {
        long ino = Namespace.lookup(txn, parent, name);
        if (ino == 0) {
            throw new FsException(Errno.ENOENT, "no such file or directory");
        }
        return ino;
    }

    private static String[] nonRoot(String path) throws FsException {
        String[] parts = split(path);
        if (parts.length == 0) {
            throw new FsException(Errno.EBUSY, "the root cannot be changed this way");
        }
        return parts;
    }

    private <T> T read(Txns.ReadBody<T> body) throws FsException {
        return Txns.read(kv, body);
    }

    private <T> T write(Txns.WriteBody<T> body) throws FsException {
        try {
            return Txns.write(kv, body);
        } finally {
            log.transactionEnded();
        }
    }

    private static Inode inodeOrFail(KvTxn txn, long ino) throws FsException {
        return Txns.inodeOrFail(txn, ino);
    }

    // ---- attributes ------------------------------------------------------------------------

    public Inode getattr(String path) throws FsException {
        return files.attributes(resolve(path));
    }

    public Inode getattr(long ino) throws FsException {
        return files.attributes(ino);
    }

    /**
     * The inode named {@code name} in directory {@code parent}, with what open handles wrote and
     * did not commit yet (the kernel's lookup: one read transaction, no path walk).
     */
    public Inode lookup(long parent, String name) throws FsException {
        checkName(name);
        long ino = read(txn -> {
            if (!inodeOrFail(txn, parent).isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            return existingChild(txn, parent, name);
        });
        return files.attributes(ino);
    }

    /**
     * The site log hears only of changes to a file with a name: one unlinked while open is already
     * gone from the replica, so {@code path} is null for it. A named file must come with its path.
     */
    private static void requireName(Inode inode, String path) throws FsException {
        if (path == null && inode.nlink() > 0) {
            throw new FsException(Errno.ENOENT, "no name of inode " + inode.ino() + " is known; look it up again");
        }
    }

    /**
     * {@link #requireName}, and {@code path} (when there is one) must still lead to the inode: the
     * kernel names it by inode and the site log by path, and another site may have moved a name
     * before the kernel heard of it; a stale path must fail (ENOENT, and the kernel looks the name
     * up again) rather than log a change to another file. Checked in the change's own transaction.
     */
    private void requireName(KvTxn txn, Inode inode, String path) throws FsException {
        requireName(inode, path);
        if (path != null && inode.ino() != Namespace.ROOT) {
            String[] parts = split(path);
            long named;
            try {
                named = walk(txn, parts, parts.length);
            } catch (FsException missing) {
                named = 0;
            }
            if (named != inode.ino()) {
                throw moved(parts, parts.length, inode.ino());
            }
        }
    }

    public void chmod(String path, int mode) throws FsException {
        chmod(resolve(path), path, mode);
    }

    /** chmod of inode {@code ino}, which the site log knows as {@code path} (null: see {@link #requireName}). */
    public void chmod(long ino, String path, int mode) throws FsException {
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            requireName(txn, inode, path);
            Inode after = inode.withMode(mode, now);
            Namespace.putInode(txn, after);
            if (path != null) {
                log.attributes(txn, path, NamespaceLog.MODE, after);
            }
            return null;
        });
    }

    public void chown(String path, long uid, long gid) throws FsException {
        chown(resolve(path), path, uid, gid);
    }

    /** chown of inode {@code ino}, which the site log knows as {@code path} (null: see {@link #requireName}). */
    public void chown(long ino, String path, long uid, long gid) throws FsException {
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            requireName(txn, inode, path);
            int newUid = uid == -1 || uid == 0xffffffffL ? inode.uid() : (int) uid;
            int newGid = gid == -1 || gid == 0xffffffffL ? inode.gid() : (int) gid;
            int mode = inode.mode();
            if (!inode.isDir() && (newUid != inode.uid() || newGid != inode.gid())) {
                mode &= ~04000;
                if ((mode & 010) != 0) {
                    mode &= ~02000;
                }
            }
            Inode after = new Inode(inode.ino(), mode, newUid, newGid, inode.nlink(), inode.size(),
                    inode.atimeNs(), inode.mtimeNs(), now, inode.rdev());
            Namespace.putInode(txn, after);
            int mask = (newUid != inode.uid() ? NamespaceLog.UID : 0) | (newGid != inode.gid() ? NamespaceLog.GID : 0)
                    | (mode != inode.mode() ? NamespaceLog.MODE : 0);
            if (mask != 0 && path != null) {
                log.attributes(txn, path, mask, after);
            }
            return null;
        });
    }

    /** Sets times from (seconds, nanoseconds) pairs; a nanoseconds field may be UTIME_NOW or UTIME_OMIT. */
    public void utimens(String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) throws FsException {
        utimens(resolve(path), path, atimeSec, atimeNsec, mtimeSec, mtimeNsec);
    }

    /** utimens of inode {@code ino}, which the site log knows as {@code path} (null: see {@link #requireName}). */
    public void utimens(long ino, String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) throws FsException {
        files.commit(ino);
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            requireName(txn, inode, path);
            long a = pick(atimeSec, atimeNsec, inode.atimeNs(), now);
            long m = pick(mtimeSec, mtimeNsec, inode.mtimeNs(), now);
            Inode after = inode.withTimes(a, m, now);
            Namespace.putInode(txn, after);
            int mask = (atimeNsec != UTIME_OMIT ? NamespaceLog.ATIME : 0) | (mtimeNsec != UTIME_OMIT ? NamespaceLog.MTIME : 0);
            if (mask != 0 && path != null) {
                log.attributes(txn, path, mask, after);
            }
            return null;
        });
    }

    private static long pick(long sec, long nsec, long old, long now) {
        if (nsec == UTIME_OMIT) {
            return old;
        }
        if (nsec == UTIME_NOW) {
            return now;
        }
        return sec * 1_000_000_000L + nsec;
    }

    // ---- directories -----------------------------------------------------------------------

    public List<DirEntry> readdir(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> {
            long ino = walk(txn, parts, parts.length);
            Inode dir = inodeOrFail(txn, ino);
            if (!dir.isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            return Namespace.list(txn, ino, null, Integer.MAX_VALUE);
        });
    }

    /** The names in directory {@code dir}. */
    public List<DirEntry> readdir(long dir) throws FsException {
        return read(txn -> {
            if (!inodeOrFail(txn, dir).isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            return Namespace.list(txn, dir, null, Integer.MAX_VALUE);
        });
    }

    public Inode mkdir(String path, int mode, Caller caller) throws FsException {
        return mkdir(ANY, path, mode, caller);
    }

    /**
     * mkdir of {@code path}, whose directory must be inode {@code parent} (the kernel's view; ENOENT
     * when another site moved a name meanwhile). So do the other calls that take a parent inode and
     * a path: the check is part of the change's own walk.
     */
    public Inode mkdir(long parent, String path, int mode, Caller caller) throws FsException {
        return createNode(parent, path, Inode.S_IFDIR | (mode & 07777), 0, caller, null);
    }

    public Inode mknod(String path, int mode, long rdev, Caller caller) throws FsException {
        return mknod(ANY, path, mode, rdev, caller);
    }

    /** mknod of {@code path} in directory {@code parent} (see {@link #mkdir(long, String, int, Caller)}). */
    public Inode mknod(long parent, String path, int mode, long rdev, Caller caller) throws FsException {
        int type = mode & Inode.S_IFMT;
        if (type == 0) {
            mode |= Inode.S_IFREG;
        }
        return createNode(parent, path, mode, rdev, caller, null);
    }

    public Inode symlink(String target, String linkPath, Caller caller) throws FsException {
        return symlink(target, ANY, linkPath, caller);
    }

    /** symlink at {@code linkPath} in directory {@code parent} (see {@link #mkdir(long, String, int, Caller)}). */
    public Inode symlink(String target, long parent, String linkPath, Caller caller) throws FsException {
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 4095) {
            throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than 4095 bytes");
        }
        return createNode(parent, linkPath, Inode.S_IFLNK | 0777, 0, caller, bytes);
    }

    private Inode createNode(long expectedParent, String path, int mode, long rdev, Caller caller, byte[] symlinkTarget)
            throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        return write(txn -> {
            long parent = parentDir(txn, parts, expectedParent);
            if (Namespace.lookup(txn, parent, name) != 0) {
                throw new FsException(Errno.EEXIST, "file exists");
            }
            Inode child = addChild(txn, parent, name, mode, rdev, caller, symlinkTarget, now);
            log.created(txn, path, child, symlinkTarget);
            return child;
        });
    }

    private static Inode addChild(KvWriteTxn txn, long parent, String name, int mode, long rdev, Caller caller,
                                  byte[] symlinkTarget, long now) throws FsException {
        Inode p = inodeOrFail(txn, parent);
        boolean dir = (mode & Inode.S_IFMT) == Inode.S_IFDIR;
        int gid = caller.gid();
        if ((p.mode() & 02000) != 0) {
            gid = p.gid();
            if (dir) {
                mode |= 02000;
            }
        }
        long ino = Namespace.allocateIno(txn);
        long size = symlinkTarget == null ? 0 : symlinkTarget.length;
        Inode child = new Inode(ino, mode, caller.uid(), gid, dir ? 2 : 1, size, now, now, now, rdev);
        Namespace.putInode(txn, child);
        if (symlinkTarget != null) {
            Namespace.putSymlink(txn, ino, symlinkTarget);
        }
        Namespace.link(txn, parent, name, ino, mode);
        Inode parentAfter = p.touched(now);
        if (dir) {
            parentAfter = parentAfter.withNlink(p.nlink() + 1, now);
        }
        Namespace.putInode(txn, parentAfter);
        return child;
    }

    public void rmdir(String path) throws FsException {
        rmdir(ANY, path);
    }

    /** rmdir of {@code path} in directory {@code expectedParent} (see {@link #mkdir(long, String, int, Caller)}). */
    public void rmdir(long expectedParent, String path) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long parent = parentDir(txn, parts, expectedParent);
            long ino = existingChild(txn, parent, name);
            Inode dir = inodeOrFail(txn, ino);
            if (!dir.isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            if (!Namespace.isEmptyDir(txn, ino)) {
                throw new FsException(Errno.ENOTEMPTY, "directory not empty");
            }
            Namespace.unlinkName(txn, parent, name);
            Namespace.deleteInode(txn, ino);
            log.removed(txn, path, ino);
            Inode p = inodeOrFail(txn, parent);
            Namespace.putInode(txn, p.touched(now).withNlink(p.nlink() - 1, now));
            return null;
        });
    }

    public byte[] readlink(String path) throws FsException {
        return readlink(resolve(path));
    }

    public byte[] readlink(long ino) throws FsException {
        return read(txn -> {
            byte[] target = Namespace.symlinkTarget(txn, ino);
            if (target == null) {
                throw new FsException(Errno.EINVAL, "not a symbolic link");
            }
            return target;
        });
    }

    // ---- names -----------------------------------------------------------------------------

    public void unlink(String path) throws FsException {
        unlink(ANY, path);
    }

    /** unlink of {@code path} in directory {@code expectedParent} (see {@link #mkdir(long, String, int, Caller)}). */
    public void unlink(long expectedParent, String path) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        try (OpenFiles.Deletions gone = files.deletions()) {
            write(txn -> {
                long parent = parentDir(txn, parts, expectedParent);
                long ino = existingChild(txn, parent, name);
                Inode inode = inodeOrFail(txn, ino);
                if (inode.isDir()) {
                    throw new FsException(Errno.EISDIR, "is a directory");
                }
                Namespace.unlinkName(txn, parent, name);
                dropLink(txn, inode, now, gone);
                Namespace.putInode(txn, inodeOrFail(txn, parent).touched(now));
                log.removed(txn, path, ino);
                return null;
            });
        }
    }

    /** One name fewer: the inode goes when no name and no open handle is left. */
    private static void dropLink(KvWriteTxn txn, Inode inode, long now, OpenFiles.Deletions gone) {
        int nlink = Math.max(0, inode.nlink() - 1);
        if (nlink == 0 && gone.claim(inode.ino())) {
            Namespace.deleteInode(txn, inode.ino());
        } else {
            Namespace.putInode(txn, inode.withNlink(nlink, now));
        }
    }

    public void link(String existing, String newPath) throws FsException {
        link(ANY, existing, ANY, newPath);
    }

    /**
     * link of inode {@code expectedIno}, named {@code existing}, as {@code newPath} in directory
     * {@code newParent}; ENOENT when {@code existing} no longer names {@code expectedIno} (see
     * {@link #mkdir(long, String, int, Caller)}).
     */
    public void link(long expectedIno, String existing, long newParent, String newPath) throws FsException {
        String[] from = split(existing);
        String[] to = nonRoot(newPath);
        String name = to[to.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long ino = walk(txn, from, from.length);
            if (expectedIno != ANY && ino != expectedIno) {
                throw moved(from, from.length, expectedIno);
            }
            Inode inode = inodeOrFail(txn, ino);
            if (inode.isDir()) {
                throw new FsException(Errno.EPERM, "cannot hard-link a directory");
            }
            long parent = parentDir(txn, to, newParent);
            if (Namespace.lookup(txn, parent, name) != 0) {
                throw new FsException(Errno.EEXIST, "file exists");
            }
            Namespace.link(txn, parent, name, ino, inode.mode());
            Namespace.putInode(txn, inode.withNlink(inode.nlink() + 1, now));
            log.linked(txn, existing, newPath, ino);
            Namespace.putInode(txn, inodeOrFail(txn, parent).touched(now));
            return null;
        });
    }

    public void rename(String fromPath, String toPath) throws FsException {
        rename(ANY, fromPath, ANY, toPath);
    }

    /** rename of {@code fromPath} in directory {@code parent} to {@code toPath} in {@code newParent} (see {@link #mkdir(long, String, int, Caller)}). */
    public void rename(long parent, String fromPath, long newParent, String toPath) throws FsException {
        String[] from = nonRoot(fromPath);
        String[] to = nonRoot(toPath);
        if (toPath.startsWith(fromPath + "/")) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        String fromName = from[from.length - 1];
        String toName = to[to.length - 1];
        long now = clock.nowNs();
        try (OpenFiles.Deletions gone = files.deletions()) {
            write(txn -> {
                long srcParent = parentDir(txn, from, parent);
                long ino = existingChild(txn, srcParent, fromName);
                long dstParent = parentDir(txn, to, newParent);
                Inode moving = inodeOrFail(txn, ino);
                long existing = Namespace.lookup(txn, dstParent, toName);
                if (existing == ino) {
                    return null;
                }
                if (existing != 0) {
                    replaceTarget(txn, moving, inodeOrFail(txn, existing), dstParent, now, gone);
                }
                Namespace.unlinkName(txn, srcParent, fromName);
                Namespace.link(txn, dstParent, toName, ino, moving.mode());
                Namespace.putInode(txn, moving.changed(now));
                log.renamed(txn, fromPath, toPath, ino);
                Inode src = inodeOrFail(txn, srcParent).touched(now);
                if (srcParent == dstParent) {
                    Namespace.putInode(txn, src);
                    return null;
                }
                Inode dst = inodeOrFail(txn, dstParent).touched(now);
                if (moving.isDir()) {
                    src = src.withNlink(src.nlink() - 1, now);
                    dst = dst.withNlink(dst.nlink() + 1, now);
                }
                Namespace.putInode(txn, src);
                Namespace.putInode(txn, dst);
                return null;
            });
        }
    }

    private static void replaceTarget(KvWriteTxn txn, Inode moving, Inode victim, long dstParent, long now,
                                      OpenFiles.Deletions gone) throws FsException {
        if (moving.isDir()) {
            if (!victim.isDir()) {
                throw new FsException(Errno.ENOTDIR, "cannot replace a non-directory with a directory");
            }
            if (!Namespace.isEmptyDir(txn, victim.ino())) {
                throw new FsException(Errno.ENOTEMPTY, "target directory not empty");
            }
            Namespace.deleteInode(txn, victim.ino());
            Inode p = inodeOrFail(txn, dstParent);
            Namespace.putInode(txn, p.withNlink(p.nlink() - 1, now));
        } else {
            if (victim.isDir()) {
                throw new FsException(Errno.EISDIR, "cannot replace a directory with a non-directory");
            }
            dropLink(txn, victim, now, gone);
        }
    }

    // ---- xattrs ----------------------------------------------------------------------------

    public void setxattr(String path, String name, byte[] value, int flags, Caller caller) throws FsException {
        setxattr(resolve(path), path, name, value, flags, caller);
    }

    /** setxattr on inode {@code ino}, which the site log knows as {@code path} (null: see {@link #requireName}). */
    public void setxattr(long ino, String path, String name, byte[] value, int flags, Caller caller) throws FsException {
        checkXattrName(name);
        if (value.length > XATTR_SIZE_MAX) {
            throw new FsException(Errno.E2BIG, "xattr value larger than 64 KiB");
        }
        refuseSynced(name);
        if (PosixAcl.isAclName(name)) {
            setAcl(ino, path, name, value, caller);
            return;
        }
        long now = clock.nowNs();
        write(txn -> {
            requireName(txn, inodeOrFail(txn, ino), path);
            boolean exists = Namespace.xattr(txn, ino, name) != null;
            if ((flags & XATTR_CREATE) != 0 && exists) {
                throw new FsException(Errno.EEXIST, "xattr exists");
            }
            if ((flags & XATTR_REPLACE) != 0 && !exists) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            Namespace.putXattr(txn, ino, name, value);
            Namespace.putInode(txn, inodeOrFail(txn, ino).changed(now));
            if (path != null) {
                log.xattr(txn, path, ino, name, value);
            }
            return null;
        });
    }

    /** See {@link PosixAcl}: a minimal access ACL is a chmod, checked here since the kernel leaves system.* xattrs to us. */
    private void setAcl(long ino, String path, String name, byte[] value, Caller caller) throws FsException {
        if (!PosixAcl.ACCESS.equals(name)) {
            throw new FsException(Errno.ENOTSUP, "default ACLs are not supported");
        }
        int bits = PosixAcl.permissionBits(value);
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            requireName(txn, inode, path);
            if (caller.uid() != 0 && caller.uid() != inode.uid()) {
                throw new FsException(Errno.EPERM, "only the owner may change permissions");
            }
            Inode after = inode.withMode((inode.mode() & ~0777) | bits, now);
            Namespace.putInode(txn, after);
            if (path != null) {
                log.attributes(txn, path, NamespaceLog.MODE, after);
            }
            return null;
        });
    }

    private static void refuseSynced(String name) throws FsException {
        if (SYNCED_XATTR.equals(name)) {
            throw new FsException(Errno.EPERM, SYNCED_XATTR + " is computed by StrataFS and cannot be set or removed");
        }
    }

    private static void checkXattrName(String name) throws FsException {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > NAME_MAX) {
            throw new FsException(Errno.ERANGE, "xattr name must be 1 to 255 bytes");
        }
    }

    public byte[] getxattr(String path, String name) throws FsException {
        return getxattr(resolve(path), path, name);
    }

    /**
     * getxattr on inode {@code ino}; {@link #SYNCED_XATTR} is answered from the inodes along
     * {@code path} (absent for a file without a name, whose content no target will get).
     */
    public byte[] getxattr(long ino, String path, String name) throws FsException {
        checkXattrName(name);
        SyncedAnswer answer = synced;
        if (answer != null && SYNCED_XATTR.equals(name) && path != null) {
            long[] chain = resolveChain(path);
            return answer.describe(chain, uncommittedBytes(chain[chain.length - 1])).getBytes(StandardCharsets.UTF_8);
        }
        return read(txn -> {
            byte[] v = Namespace.xattr(txn, ino, name);
            if (v == null) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            return v;
        });
    }

    public List<String> listxattr(String path) throws FsException {
        return listxattr(resolve(path));
    }

    public List<String> listxattr(long ino) throws FsException {
        return read(txn -> {
            inodeOrFail(txn, ino);
            return Namespace.xattrNames(txn, ino);
        });
    }

    public void removexattr(String path, String name) throws FsException {
        removexattr(resolve(path), path, name);
    }

    /** removexattr on inode {@code ino}, which the site log knows as {@code path} (null: see {@link #requireName}). */
    public void removexattr(long ino, String path, String name) throws FsException {
        checkXattrName(name);
        refuseSynced(name);
        long now = clock.nowNs();
        write(txn -> {
            requireName(txn, inodeOrFail(txn, ino), path);
            if (!Namespace.removeXattr(txn, ino, name)) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            Namespace.putInode(txn, inodeOrFail(txn, ino).changed(now));
            if (path != null) {
                log.xattr(txn, path, ino, name, null);
            }
            return null;
        });
    }

    public FsStats statfs() {
        return stats.get();
    }

    // ---- open files ------------------------------------------------------------------------

    /** Creates (or, without O_EXCL, opens) a regular file and returns a handle. */
    public long create(String path, int mode, int flags, Caller caller) throws FsException {
        return create(ANY, path, mode, flags, caller);
    }

    /** create of {@code path} in directory {@code expectedParent} (see {@link #mkdir(long, String, int, Caller)}). */
    public long create(long expectedParent, String path, int mode, int flags, Caller caller) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        long ino = write(txn -> {
            long parent = parentDir(txn, parts, expectedParent);
            long existing = Namespace.lookup(txn, parent, name);
            if (existing != 0) {
                if ((flags & Handle.O_EXCL) != 0) {
                    throw new FsException(Errno.EEXIST, "file exists");
                }
                if (inodeOrFail(txn, existing).isDir()) {
                    throw new FsException(Errno.EISDIR, "is a directory");
                }
                return existing;
            }
            Inode child = addChild(txn, parent, name, Inode.S_IFREG | (mode & 07777), 0, caller, null, now);
            log.created(txn, path, child, null);
            return child.ino();
        });
        return files.open(ino, flags);
    }

    public long open(String path, int flags) throws FsException {
        return open(resolve(path), flags);
    }

    public long open(long ino, int flags) throws FsException {
        return files.open(ino, flags);
    }

    public long inoOf(long fh) throws FsException {
        return files.inoOf(fh);
    }

    public int read(long fh, long offset, byte[] dst, int length) throws FsException {
        return files.read(fh, offset, dst, length);
    }

    public int write(long fh, long offset, byte[] src, int length) throws FsException {
        return files.write(fh, offset, src, length);
    }

    public void flush(long fh) throws FsException {
        files.flush(fh);
    }

    public void fsync(long fh) throws FsException {
        files.fsync(fh);
        log.contentSettled(files.inoOf(fh));
    }

    /** Makes everything written so far durable (fsync of a directory, umount). */
    public void syncAll() throws FsException {
        files.syncAll();
    }

    /** Writes access times batched in memory. */
    public void flushAtimes() {
        files.flushAtimes();
    }

    public void release(long fh) throws FsException {
        long closed = files.release(fh);
        if (closed != 0) {
            log.contentSettled(closed);
        }
    }

    public void truncate(String path, long size) throws FsException {
        truncate(resolve(path), size);
    }

    public void truncate(long ino, long size) throws FsException {
        files.truncate(ino, size);
        if (!files.isOpen(ino)) {
            log.contentSettled(ino);
        }
    }

    public void ftruncate(long fh, long size) throws FsException {
        files.ftruncate(fh, size);
    }

    /** Bytes of writes that open files hold on the heap, not yet committed to LMDB. */
    public long bufferedWriteBytes() {
        return files.bufferedBytes();
    }

    /** Changes the bound of {@link #bufferedWriteBytes} (by default a quarter of the heap, at most 256 MiB). */
    void setMaxBufferedWriteBytes(long bytes) {
        files.maxBuffered = bytes;
    }

    /** The test seam of {@link OpenFiles}. */
    void setHooks(OpenFiles.Hooks hooks) {
        files.hooks = hooks;
    }

    @Override
    public void close() {
        files.close();
    }
}
