package io.stratafs.vfs;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.DirtyLimitException;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Namespace;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * POSIX semantics over the namespace tables and the block cache: path resolution, inodes, handles,
 * link counts, times and file contents.
 *
 * <p>Every namespace change is one LMDB write transaction, so it is atomic and journaled as a
 * whole. File writes collect in per-inode {@link OpenFile} buffers and are committed as whole
 * blocks (content-addressed) together with the new size on block completion, flush, fsync and
 * release. Lock order: an {@link OpenFile} monitor, then the LMDB writer lock, then the cache's
 * monitor.
 */
public final class Vfs {
    public static final int NAME_MAX = 255;
    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;
    public static final int XATTR_SIZE_MAX = 65536;
    static final long UTIME_NOW = (1L << 30) - 1;
    static final long UTIME_OMIT = (1L << 30) - 2;
    /** A file's uncommitted bytes above this are committed early, bounding memory per writer. */
    private static final long MAX_DIRTY_PER_FILE = 64L << 20;

    private final Kv kv;
    private final BlockCache cache;
    private final int blockSize;
    private final Clock clock;
    private final Supplier<FsStats> stats;
    private final Map<Long, OpenFile> open = new ConcurrentHashMap<>();
    private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);

    public Vfs(Kv kv, BlockCache cache, int blockSize, Clock clock, Supplier<FsStats> stats) {
        this.kv = kv;
        this.cache = cache;
        this.blockSize = blockSize;
        this.clock = clock;
        this.stats = stats;
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

    public int blockSize() {
        return blockSize;
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

    private static long walk(KvTxn txn, String[] parts, int count) throws FsException {
        long ino = Namespace.ROOT;
        for (int i = 0; i < count; i++) {
            long child = Namespace.lookup(txn, ino, parts[i]);
            if (child == 0) {
                throw new FsException(Errno.ENOENT, "no such file or directory");
            }
            ino = child;
        }
        return ino;
    }

    public long resolve(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> walk(txn, parts, parts.length));
    }

    /** The parent directory's inode of {@code parts}, checked to be a directory. */
    private static long parentDir(KvTxn txn, String[] parts) throws FsException {
        long parent = walk(txn, parts, parts.length - 1);
        Inode p = Namespace.inode(txn, parent);
        if (p == null) {
            throw new FsException(Errno.ENOENT, "no such directory");
        }
        if (!p.isDir()) {
            throw new FsException(Errno.ENOTDIR, "not a directory");
        }
        return parent;
    }

    private static String[] nonRoot(String path) throws FsException {
        String[] parts = split(path);
        if (parts.length == 0) {
            throw new FsException(Errno.EBUSY, "the root cannot be changed this way");
        }
        return parts;
    }

    // ---- transactions with checked errors --------------------------------------------------

    @FunctionalInterface
    private interface ReadBody<T> {
        T apply(KvTxn txn) throws FsException;
    }

    @FunctionalInterface
    private interface WriteBody<T> {
        T apply(KvWriteTxn txn) throws FsException;
    }

    /** Carries an FsException out of a Kv callback, which cannot throw checked exceptions. */
    private static final class Escape extends RuntimeException {
        final FsException error;

        Escape(FsException error) {
            super(null, null, false, false);
            this.error = error;
        }
    }

    private <T> T read(ReadBody<T> body) throws FsException {
        try {
            return kv.read(txn -> {
                try {
                    return body.apply(txn);
                } catch (FsException e) {
                    throw new Escape(e);
                }
            });
        } catch (Escape e) {
            throw e.error;
        }
    }

    private <T> T write(WriteBody<T> body) throws FsException {
        try {
            return kv.write(txn -> {
                try {
                    return body.apply(txn);
                } catch (FsException e) {
                    throw new Escape(e);
                }
            });
        } catch (Escape e) {
            throw e.error;
        }
    }

    private static Inode inodeOrFail(KvTxn txn, long ino) throws FsException {
        Inode inode = Namespace.inode(txn, ino);
        if (inode == null) {
            throw new FsException(Errno.ENOENT, "inode " + ino + " is gone");
        }
        return inode;
    }

    // ---- attributes ------------------------------------------------------------------------

    public Inode getattr(String path) throws FsException {
        String[] parts = split(path);
        Inode inode = read(txn -> inodeOrFail(txn, walk(txn, parts, parts.length)));
        return overlay(inode);
    }

    public Inode getattr(long ino) throws FsException {
        return overlay(read(txn -> inodeOrFail(txn, ino)));
    }

    /** Adds what open handles wrote but did not commit yet. */
    private Inode overlay(Inode inode) {
        OpenFile of = open.get(inode.ino());
        if (of == null) {
            return inode;
        }
        synchronized (of) {
            if (!of.hasPendingChanges()) {
                return inode;
            }
            long size = of.size >= 0 ? of.size : inode.size();
            long mtime = of.pendingMtimeNs != 0 ? of.pendingMtimeNs : inode.mtimeNs();
            long ctime = Math.max(inode.ctimeNs(), mtime);
            return new Inode(inode.ino(), inode.mode(), inode.uid(), inode.gid(), inode.nlink(), size,
                    inode.atimeNs(), mtime, ctime, inode.rdev());
        }
    }

    public void chmod(String path, int mode) throws FsException {
        String[] parts = split(path);
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, walk(txn, parts, parts.length));
            Namespace.putInode(txn, inode.withMode(mode, now));
            return null;
        });
    }

    public void chown(String path, long uid, long gid) throws FsException {
        String[] parts = split(path);
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, walk(txn, parts, parts.length));
            int newUid = uid == -1 || uid == 0xffffffffL ? inode.uid() : (int) uid;
            int newGid = gid == -1 || gid == 0xffffffffL ? inode.gid() : (int) gid;
            int mode = inode.mode();
            if (!inode.isDir() && (newUid != inode.uid() || newGid != inode.gid())) {
                mode &= ~04000;
                if ((mode & 010) != 0) {
                    mode &= ~02000;
                }
            }
            Namespace.putInode(txn, new Inode(inode.ino(), mode, newUid, newGid, inode.nlink(), inode.size(),
                    inode.atimeNs(), inode.mtimeNs(), now, inode.rdev()));
            return null;
        });
    }

    /** Sets times; each is nanoseconds since the epoch, or {@link #UTIME_NOW}/{@link #UTIME_OMIT} in nanos field form. */
    public void utimens(String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) throws FsException {
        long ino = resolve(path);
        commit(ino);
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            long a = pick(atimeSec, atimeNsec, inode.atimeNs(), now);
            long m = pick(mtimeSec, mtimeNsec, inode.mtimeNs(), now);
            Namespace.putInode(txn, inode.withTimes(a, m, now));
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

    public Inode mkdir(String path, int mode, Caller caller) throws FsException {
        return createNode(path, Inode.S_IFDIR | (mode & 07777), 0, caller, null);
    }

    public Inode mknod(String path, int mode, long rdev, Caller caller) throws FsException {
        int type = mode & Inode.S_IFMT;
        if (type == 0) {
            mode |= Inode.S_IFREG;
        }
        return createNode(path, mode, rdev, caller, null);
    }

    public Inode symlink(String target, String linkPath, Caller caller) throws FsException {
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 4095) {
            throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than 4095 bytes");
        }
        return createNode(linkPath, Inode.S_IFLNK | 0777, 0, caller, bytes);
    }

    private Inode createNode(String path, int mode, long rdev, Caller caller, byte[] symlinkTarget) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        return write(txn -> {
            long parent = parentDir(txn, parts);
            if (Namespace.lookup(txn, parent, name) != 0) {
                throw new FsException(Errno.EEXIST, "file exists");
            }
            return addChild(txn, parent, name, mode, rdev, caller, symlinkTarget, now);
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
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long parent = parentDir(txn, parts);
            long ino = Namespace.lookup(txn, parent, name);
            if (ino == 0) {
                throw new FsException(Errno.ENOENT, "no such directory");
            }
            Inode dir = inodeOrFail(txn, ino);
            if (!dir.isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            if (!Namespace.isEmptyDir(txn, ino)) {
                throw new FsException(Errno.ENOTEMPTY, "directory not empty");
            }
            Namespace.unlinkName(txn, parent, name);
            Namespace.deleteInode(txn, ino);
            Inode p = inodeOrFail(txn, parent);
            Namespace.putInode(txn, p.touched(now).withNlink(p.nlink() - 1, now));
            return null;
        });
    }

    public byte[] readlink(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> {
            long ino = walk(txn, parts, parts.length);
            byte[] target = Namespace.symlinkTarget(txn, ino);
            if (target == null) {
                throw new FsException(Errno.EINVAL, "not a symbolic link");
            }
            return target;
        });
    }

    // ---- names -----------------------------------------------------------------------------

    public void unlink(String path) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long parent = parentDir(txn, parts);
            long ino = Namespace.lookup(txn, parent, name);
            if (ino == 0) {
                throw new FsException(Errno.ENOENT, "no such file");
            }
            Inode inode = inodeOrFail(txn, ino);
            if (inode.isDir()) {
                throw new FsException(Errno.EISDIR, "is a directory");
            }
            Namespace.unlinkName(txn, parent, name);
            dropLink(txn, inode, now);
            Namespace.putInode(txn, inodeOrFail(txn, parent).touched(now));
            return null;
        });
    }

    /** One name fewer: the inode goes when no name and no open handle is left. */
    private void dropLink(KvWriteTxn txn, Inode inode, long now) {
        int nlink = Math.max(0, inode.nlink() - 1);
        if (nlink == 0 && !open.containsKey(inode.ino())) {
            Namespace.deleteInode(txn, inode.ino());
        } else {
            Namespace.putInode(txn, inode.withNlink(nlink, now));
        }
    }

    public void link(String existing, String newPath) throws FsException {
        String[] from = split(existing);
        String[] to = nonRoot(newPath);
        String name = to[to.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long ino = walk(txn, from, from.length);
            Inode inode = inodeOrFail(txn, ino);
            if (inode.isDir()) {
                throw new FsException(Errno.EPERM, "cannot hard-link a directory");
            }
            long parent = parentDir(txn, to);
            if (Namespace.lookup(txn, parent, name) != 0) {
                throw new FsException(Errno.EEXIST, "file exists");
            }
            Namespace.link(txn, parent, name, ino, inode.mode());
            Namespace.putInode(txn, inode.withNlink(inode.nlink() + 1, now));
            Namespace.putInode(txn, inodeOrFail(txn, parent).touched(now));
            return null;
        });
    }

    public void rename(String fromPath, String toPath) throws FsException {
        String[] from = nonRoot(fromPath);
        String[] to = nonRoot(toPath);
        if (toPath.startsWith(fromPath + "/")) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        String fromName = from[from.length - 1];
        String toName = to[to.length - 1];
        long now = clock.nowNs();
        write(txn -> {
            long srcParent = parentDir(txn, from);
            long ino = Namespace.lookup(txn, srcParent, fromName);
            if (ino == 0) {
                throw new FsException(Errno.ENOENT, "no such file or directory");
            }
            long dstParent = parentDir(txn, to);
            Inode moving = inodeOrFail(txn, ino);
            long existing = Namespace.lookup(txn, dstParent, toName);
            if (existing == ino) {
                return null;
            }
            if (existing != 0) {
                replaceTarget(txn, moving, inodeOrFail(txn, existing), dstParent, now);
            }
            Namespace.unlinkName(txn, srcParent, fromName);
            Namespace.link(txn, dstParent, toName, ino, moving.mode());
            Namespace.putInode(txn, moving.changed(now));
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

    private void replaceTarget(KvWriteTxn txn, Inode moving, Inode victim, long dstParent, long now) throws FsException {
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
            dropLink(txn, victim, now);
        }
    }

    // ---- xattrs ----------------------------------------------------------------------------

    public void setxattr(String path, String name, byte[] value, int flags) throws FsException {
        checkXattrName(name);
        if (value.length > XATTR_SIZE_MAX) {
            throw new FsException(Errno.E2BIG, "xattr value larger than 64 KiB");
        }
        String[] parts = split(path);
        long now = clock.nowNs();
        write(txn -> {
            long ino = walk(txn, parts, parts.length);
            boolean exists = Namespace.xattr(txn, ino, name) != null;
            if ((flags & XATTR_CREATE) != 0 && exists) {
                throw new FsException(Errno.EEXIST, "xattr exists");
            }
            if ((flags & XATTR_REPLACE) != 0 && !exists) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            Namespace.putXattr(txn, ino, name, value);
            Namespace.putInode(txn, inodeOrFail(txn, ino).changed(now));
            return null;
        });
    }

    private static void checkXattrName(String name) throws FsException {
        int len = name.getBytes(StandardCharsets.UTF_8).length;
        if (len == 0 || len > NAME_MAX) {
            throw new FsException(Errno.ERANGE, "xattr name must be 1 to 255 bytes");
        }
    }

    public byte[] getxattr(String path, String name) throws FsException {
        checkXattrName(name);
        String[] parts = split(path);
        return read(txn -> {
            byte[] v = Namespace.xattr(txn, walk(txn, parts, parts.length), name);
            if (v == null) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            return v;
        });
    }

    public List<String> listxattr(String path) throws FsException {
        String[] parts = split(path);
        return read(txn -> Namespace.xattrNames(txn, walk(txn, parts, parts.length)));
    }

    public void removexattr(String path, String name) throws FsException {
        checkXattrName(name);
        String[] parts = split(path);
        long now = clock.nowNs();
        write(txn -> {
            long ino = walk(txn, parts, parts.length);
            if (!Namespace.removeXattr(txn, ino, name)) {
                throw new FsException(Errno.ENODATA, "no such xattr");
            }
            Namespace.putInode(txn, inodeOrFail(txn, ino).changed(now));
            return null;
        });
    }

    public FsStats statfs() {
        return stats.get();
    }

    // ---- open files ------------------------------------------------------------------------

    /** Creates (or, without O_EXCL, opens) a regular file and returns a handle. */
    public long create(String path, int mode, int flags, Caller caller) throws FsException {
        String[] parts = nonRoot(path);
        String name = parts[parts.length - 1];
        long now = clock.nowNs();
        long ino = write(txn -> {
            long parent = parentDir(txn, parts);
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
            return addChild(txn, parent, name, Inode.S_IFREG | (mode & 07777), 0, caller, null, now).ino();
        });
        return openIno(ino, flags);
    }

    public long open(String path, int flags) throws FsException {
        return openIno(resolve(path), flags);
    }

    private long openIno(long ino, int flags) throws FsException {
        OpenFile of = open.compute(ino, (k, existing) -> {
            OpenFile f = existing == null ? new OpenFile(k) : existing;
            synchronized (f) {
                f.handles++;
            }
            return f;
        });
        long fh = nextHandle.getAndIncrement();
        handles.put(fh, new Handle(ino, flags, of));
        try {
            Inode inode = getattr(ino);
            if ((flags & Handle.O_TRUNC) != 0 && inode.isRegular() && (flags & Handle.O_ACCMODE) != 0 && inode.size() > 0) {
                truncateIno(ino, 0);
            }
        } catch (FsException e) {
            release(fh);
            throw e;
        }
        return fh;
    }

    private Handle handle(long fh) throws FsException {
        Handle h = handles.get(fh);
        if (h == null) {
            throw new FsException(Errno.EBADF, "bad file handle " + fh);
        }
        return h;
    }

    public long inoOf(long fh) throws FsException {
        return handle(fh).ino();
    }

    public int read(long fh, long offset, byte[] dst, int length) throws FsException {
        Handle h = handle(fh);
        OpenFile of = h.file();
        long size;
        List<long[]> clean = new ArrayList<>();
        int total;
        synchronized (of) {
            size = knownSize(of);
            if (offset >= size) {
                return 0;
            }
            total = (int) Math.min(length, size - offset);
            long pos = offset;
            int done = 0;
            while (done < total) {
                long index = pos / blockSize;
                int inBlock = (int) (pos % blockSize);
                int n = Math.min(total - done, blockSize - inBlock);
                OpenFile.DirtyBlock db = of.dirty.get(index);
                if (db != null) {
                    copyOut(db.data, db.length, inBlock, dst, done, n);
                } else {
                    clean.add(new long[] {index, inBlock, done, n});
                }
                pos += n;
                done += n;
            }
            of.accessed = true;
        }
        for (long[] piece : clean) {
            readCommitted(h.ino(), piece[0], (int) piece[1], dst, (int) piece[2], (int) piece[3]);
        }
        return total;
    }

    private static void copyOut(byte[] src, int srcLen, int from, byte[] dst, int dstOff, int n) {
        int avail = Math.max(0, Math.min(n, srcLen - from));
        if (avail > 0) {
            System.arraycopy(src, from, dst, dstOff, avail);
        }
        Arrays.fill(dst, dstOff + avail, dstOff + n, (byte) 0);
    }

    private void readCommitted(long ino, long index, int inBlock, byte[] dst, int dstOff, int n) throws FsException {
        BlockRef ref = kv.read(txn -> Namespace.block(txn, ino, index));
        if (ref == null) {
            Arrays.fill(dst, dstOff, dstOff + n, (byte) 0);
            return;
        }
        try {
            byte[] data = cache.get(ref);
            copyOut(data, data.length, inBlock, dst, dstOff, n);
        } catch (BlockUnavailableException e) {
            throw new FsException(Errno.EIO, e.getMessage(), e);
        }
    }

    private long knownSize(OpenFile of) throws FsException {
        if (of.size < 0) {
            of.size = read(txn -> inodeOrFail(txn, of.ino)).size();
        }
        return of.size;
    }

    public int write(long fh, long offset, byte[] src, int length) throws FsException {
        Handle h = handle(fh);
        OpenFile of = h.file();
        synchronized (of) {
            long pos = h.append() ? knownSize(of) : offset;
            long end = pos + length;
            int done = 0;
            while (done < length) {
                long index = pos / blockSize;
                int inBlock = (int) (pos % blockSize);
                int n = Math.min(length - done, blockSize - inBlock);
                OpenFile.DirtyBlock db = dirtyBlock(of, index, inBlock + n);
                System.arraycopy(src, done, db.data, inBlock, n);
                if (inBlock + n > db.length) {
                    of.dirtyBytes += inBlock + n - db.length;
                    db.length = inBlock + n;
                }
                pos += n;
                done += n;
            }
            of.size = Math.max(knownSize(of), end);
            of.pendingMtimeNs = clock.nowNs();
            if (end % blockSize == 0 || of.dirtyBytes > MAX_DIRTY_PER_FILE) {
                commitFull(of, of.dirtyBytes > MAX_DIRTY_PER_FILE);
            }
        }
        return length;
    }

    /** The dirty buffer of a block, loaded from the committed block when it has one, grown to {@code need}. */
    private OpenFile.DirtyBlock dirtyBlock(OpenFile of, long index, int need) throws FsException {
        OpenFile.DirtyBlock db = of.dirty.get(index);
        if (db == null) {
            BlockRef ref = kv.read(txn -> Namespace.block(txn, of.ino, index));
            byte[] base = new byte[0];
            if (ref != null) {
                try {
                    base = cache.get(ref);
                } catch (BlockUnavailableException e) {
                    throw new FsException(Errno.EIO, e.getMessage(), e);
                }
            }
            int committedLen = (int) Math.max(0, Math.min(base.length, knownSize(of) - index * blockSize));
            db = new OpenFile.DirtyBlock(Arrays.copyOf(base, Math.max(committedLen, Math.min(blockSize, need))), committedLen);
            of.dirty.put(index, db);
            of.dirtyBytes += committedLen;
        }
        if (db.data.length < need) {
            int cap = db.data.length == 0 ? need : db.data.length;
            while (cap < need) {
                cap = Math.min(blockSize, cap * 2);
            }
            db.data = Arrays.copyOf(db.data, Math.max(cap, need));
        }
        return db;
    }

    /** Commits the dirty blocks that are full (or all of them), with the size they imply. */
    private void commitFull(OpenFile of, boolean all) throws FsException {
        List<Long> ready = new ArrayList<>();
        for (Map.Entry<Long, OpenFile.DirtyBlock> e : of.dirty.entrySet()) {
            if (all || e.getValue().length == blockSize) {
                ready.add(e.getKey());
            }
        }
        commitBlocks(of, ready);
    }

    /** Commits every uncommitted change of an inode to LMDB (on flush, fsync, release and before metadata changes). */
    public void commit(long ino) throws FsException {
        OpenFile of = open.get(ino);
        if (of == null) {
            return;
        }
        synchronized (of) {
            if (of.hasPendingChanges()) {
                commitBlocks(of, new ArrayList<>(of.dirty.keySet()));
            }
        }
    }

    private void commitBlocks(OpenFile of, List<Long> indexes) throws FsException {
        List<BlockRef> refs = new ArrayList<>(indexes.size());
        List<byte[]> datas = new ArrayList<>(indexes.size());
        try {
            for (long index : indexes) {
                OpenFile.DirtyBlock db = of.dirty.get(index);
                byte[] data = db.data.length == db.length ? db.data : Arrays.copyOf(db.data, db.length);
                refs.add(new BlockRef(Sha256.of(data), data.length));
                datas.add(data);
                cache.awaitDirtyRoom(data.length);
            }
        } catch (DirtyLimitException e) {
            throw new FsException(Errno.ENOSPC, e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for uploads");
        }
        long size = of.size;
        long mtime = of.pendingMtimeNs;
        boolean[] added = new boolean[indexes.size()];
        write(txn -> {
            for (int i = 0; i < indexes.size(); i++) {
                added[i] = cache.stageDirty(txn, refs.get(i), datas.get(i));
                Namespace.putBlock(txn, of.ino, indexes.get(i), refs.get(i));
            }
            Inode inode = inodeOrFail(txn, of.ino);
            long newSize = size >= 0 ? size : inode.size();
            if (newSize != inode.size() || mtime != 0) {
                long m = mtime != 0 ? mtime : inode.mtimeNs();
                Namespace.putInode(txn, new Inode(inode.ino(), inode.mode(), inode.uid(), inode.gid(), inode.nlink(),
                        newSize, inode.atimeNs(), m, Math.max(m, inode.ctimeNs()), inode.rdev()));
            }
            return null;
        });
        for (int i = 0; i < indexes.size(); i++) {
            cache.committed(refs.get(i), datas.get(i), added[i]);
            OpenFile.DirtyBlock db = of.dirty.remove(indexes.get(i));
            of.dirtyBytes -= db.length;
        }
        if (of.dirty.isEmpty()) {
            of.pendingMtimeNs = 0;
        }
    }

    public void flush(long fh) throws FsException {
        commit(handle(fh).ino());
    }

    public void fsync(long fh) throws FsException {
        commit(handle(fh).ino());
        kv.sync();
    }

    /** Makes everything committed so far durable (fsync of a directory, umount). */
    public void syncAll() throws FsException {
        for (long ino : new ArrayList<>(open.keySet())) {
            commit(ino);
        }
        kv.sync();
    }

    public void release(long fh) throws FsException {
        Handle h = handles.remove(fh);
        if (h == null) {
            return;
        }
        OpenFile of = h.file();
        try {
            commit(h.ino());
            touchAtime(of);
        } finally {
            boolean last;
            synchronized (of) {
                last = --of.handles == 0;
            }
            if (last) {
                open.remove(h.ino(), of);
                write(txn -> {
                    Inode inode = Namespace.inode(txn, h.ino());
                    if (inode != null && inode.nlink() == 0 && !open.containsKey(h.ino())) {
                        Namespace.deleteInode(txn, h.ino());
                    }
                    return null;
                });
            }
        }
    }

    /** relatime: atime moves on read only when it is older than mtime or than a day. */
    private void touchAtime(OpenFile of) throws FsException {
        boolean accessed;
        synchronized (of) {
            accessed = of.accessed;
            of.accessed = false;
        }
        if (!accessed) {
            return;
        }
        long now = clock.nowNs();
        write(txn -> {
            Inode inode = Namespace.inode(txn, of.ino);
            if (inode != null && (inode.atimeNs() <= inode.mtimeNs() || now - inode.atimeNs() > 86_400_000_000_000L)) {
                Namespace.putInode(txn, inode.withTimes(now, inode.mtimeNs(), inode.ctimeNs()));
            }
            return null;
        });
    }

    // ---- truncate --------------------------------------------------------------------------

    public void truncate(String path, long size) throws FsException {
        truncateIno(resolve(path), size);
    }

    public void ftruncate(long fh, long size) throws FsException {
        truncateIno(handle(fh).ino(), size);
    }

    private void truncateIno(long ino, long size) throws FsException {
        if (size < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        OpenFile of = open.get(ino);
        if (of != null) {
            synchronized (of) {
                commit(ino);
                truncateCommitted(ino, size);
                of.size = size;
            }
        } else {
            truncateCommitted(ino, size);
        }
    }

    private void truncateCommitted(long ino, long size) throws FsException {
        long now = clock.nowNs();
        long lastIndex = size / blockSize;
        int keep = (int) (size % blockSize);
        BlockRef tail = keep == 0 ? null : kv.read(txn -> Namespace.block(txn, ino, lastIndex));
        byte[] tailData = null;
        BlockRef tailRef = null;
        if (tail != null && tail.length() > keep) {
            try {
                tailData = Arrays.copyOf(cache.get(tail), keep);
            } catch (BlockUnavailableException e) {
                throw new FsException(Errno.EIO, e.getMessage(), e);
            }
            tailRef = new BlockRef(Sha256.of(tailData), keep);
        }
        byte[] data = tailData;
        BlockRef ref = tailRef;
        boolean added = write(txn -> {
            Inode inode = inodeOrFail(txn, ino);
            if (inode.isDir()) {
                throw new FsException(Errno.EISDIR, "is a directory");
            }
            Namespace.dropBlocks(txn, ino, keep == 0 ? lastIndex : lastIndex + 1);
            boolean staged = false;
            if (ref != null) {
                staged = cache.stageDirty(txn, ref, data);
                Namespace.putBlock(txn, ino, lastIndex, ref);
            }
            Namespace.putInode(txn, inode.withSize(size, now));
            return staged;
        });
        if (ref != null) {
            cache.committed(ref, data, added);
        }
    }
}
