package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.Attr;
import io.stratafs.fuse.lowlevel.Dirent;
import io.stratafs.fuse.lowlevel.LowLevelFileSystem;
import io.stratafs.fuse.lowlevel.LowLevelMount;
import io.stratafs.fuse.lowlevel.OpenFile;
import io.stratafs.fuse.lowlevel.Request;
import io.stratafs.fuse.lowlevel.SessionLoop;
import io.stratafs.fuse.lowlevel.SetAttrs;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.ErrnoTable;
import io.stratafs.vfs.FsException;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.KernelCache;
import io.stratafs.vfs.Vfs;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The FUSE adapter: serves {@link Vfs} through libfuse 2's low-level (inode) API, translating each
 * request into one VFS call and its outcome into one reply. With one kernel inode per file the
 * kernel may cache attributes and names (timeouts from {@link FuseOptions}) and still show exact
 * link counts and sizes through every name of a hard link; a file unlinked while open is served by
 * its inode until its last release, with no hidden name.
 *
 * <p>The VFS and the site log speak paths: {@link InodeNames} keeps the names the kernel was given
 * for each inode it holds. Every request passes through {@link #barrier}, which catches everything,
 * logs unexpected failures once with the operation and the inode or path, and answers with the
 * mapped errno, so no exception reaches native code or takes the mount down. Requests that change
 * the volume go through {@link #change} first, which a stop closes (EROFS) before the final commit
 * and upload.
 */
public final class StrataLowLevel implements LowLevelFileSystem, KernelCache {
    private static final Logger LOG = LoggerFactory.getLogger(StrataLowLevel.class);
    private static final int STAT_BLOCK = 4096;
    /** st_blksize: cp and friends size their buffers by it; one FUSE request carries 128 KiB. */
    private static final int IO_SIZE = 128 << 10;
    /** Loop threads at start; the kernel keeps up to 12 background requests (read-ahead, writes) in flight. */
    private static final int LOOP_THREADS = 16;
    private static final int O_ACCMODE = 03;
    private static final int O_TRUNC = 01000;
    /**
     * Test seam for the systemd watchdog (system property {@code stratafs.test.holdStatfs=FILE}):
     * while FILE exists, a statfs does not return, as in a mount whose threads hang. Unset in
     * production, where it costs one null check per statfs.
     */
    private static final Path HOLD_STATFS = Optional
            .ofNullable(System.getProperty("stratafs.test.holdStatfs")).map(Path::of).orElse(null);
    private static final ThreadLocal<byte[]> IO_BUF = ThreadLocal.withInitial(() -> new byte[IO_SIZE]);

    private final Vfs vfs;
    private final VolumeMetrics metrics;
    private final InodeNames names = new InodeNames();
    /** Directory listings by handle, taken at the first readdir from offset 0 (and again at a rewind). */
    private final Map<Long, List<Dirent>> listings = new ConcurrentHashMap<>();
    private final AtomicLong nextDirHandle = new AtomicLong(1);
    /** Changes hold the read side; {@link #stopWrites} takes the write side to wait them out. */
    private final ReadWriteLock writeGate = new ReentrantReadWriteLock();
    private volatile boolean writesStopped;
    private volatile LowLevelMount mount;
    private double attrTimeout = FuseOptions.DEFAULT_TIMEOUT;
    private double entryTimeout = FuseOptions.DEFAULT_TIMEOUT;

    private StrataLowLevel(Vfs vfs, VolumeMetrics metrics) {
        this.vfs = vfs;
        this.metrics = metrics;
    }

    /** The adapter for {@code vfs}, timing every request into {@code metrics}. */
    public static StrataLowLevel over(Vfs vfs, VolumeMetrics metrics) {
        return new StrataLowLevel(vfs, metrics);
    }

    /**
     * Mounts at {@code mountpoint} with {@code -o} style arguments (see {@link FuseOptions} for the
     * ones taken here rather than by libfuse) and serves requests until unmounted. Fails with a
     * sentence when libfuse 2 is missing or refuses an option.
     */
    public void serve(Path mountpoint, List<String> fuseArgs) throws InterruptedException {
        FuseOptions options = FuseOptions.parse(fuseArgs);
        attrTimeout = options.attrTimeout();
        entryTimeout = options.entryTimeout();
        LowLevelMount m = LowLevelMount.mount(this, mountpoint, options.libfuseOptions(), LOOP_THREADS, options.spinMicros());
        mount = m;
        metrics.fuseReaderFrom(() -> {
            SessionLoop.Stats st = m.stats();
            return new VolumeMetrics.FuseReader(st.kept(), st.handedOff(), st.relieved(), st.sleeps());
        });
        try {
            m.awaitEnd();
        } finally {
            m.close();
        }
    }

    /** Whether libfuse mounted with every option accepted (a mount in /proc/mounts alone may be about to fail). */
    public boolean isMounted() {
        return mount != null;
    }

    /**
     * Another site changed or removed the name {@code name} in directory {@code parent}: the kernel
     * forgets its cached entry (and, for a directory, the entries below it) and asks again at the
     * next use. Must not be called from inside a FUSE request (the kernel holds the directory's lock
     * while it waits for the request). Does nothing before the mount.
     */
    @Override
    public void entryChanged(long parent, String name) {
        names.removed(parent, name);
        LowLevelMount m = mount;
        if (m != null) {
            m.invalidateEntry(parent, name);
        }
    }

    /**
     * Another site changed inode {@code ino}'s attributes or content: the kernel drops its cached
     * attributes and pages. Must not be called from inside a FUSE request. Does nothing before the mount.
     */
    @Override
    public void inodeChanged(long ino) {
        LowLevelMount m = mount;
        if (m != null) {
            m.invalidateInode(ino, 0, 0);
        }
    }

    /**
     * Refuses every later change with EROFS and waits up to {@code timeoutMs} for the changes under
     * way to return (a writer held at the dirty limit may not); returns whether they all did.
     */
    public boolean stopWrites(long timeoutMs) throws InterruptedException {
        writesStopped = true;
        Lock all = writeGate.writeLock();
        if (!all.tryLock(timeoutMs, TimeUnit.MILLISECONDS)) {
            return false;
        }
        all.unlock();
        return true;
    }

    // ---- the barrier ---------------------------------------------------------------------

    @FunctionalInterface
    private interface Op {
        void run() throws Exception;
    }

    /**
     * Also times the request into {@code stratafs_fuse_operation_seconds} and counts what reached
     * the caller as EIO or ENOSPC (about 110 ns of CPU against a round trip of 40 to 70 µs). The body
     * replies as its last step; an exception before that is answered here.
     */
    private void barrier(Request r, String op, Object what, Op body) {
        long start = System.nanoTime();
        try {
            body.run();
        } catch (Throwable t) {
            Errno e = ErrnoTable.errno(t);
            countError(e);
            boolean unexpected = ErrnoTable.unexpected(t);
            if (unexpected || !routine(e)) {
                LOG.error("{} {} failed with {}: {}", op, what, e, t.toString(), unexpected ? t : null);
            }
            r.replyErr(e.value());
        } finally {
            metrics.fuseOperation(op).observeNanos(System.nanoTime() - start);
        }
    }

    /** The barrier for requests that change the volume: EROFS once {@link #stopWrites} was called. */
    private void change(Request r, String op, Object what, Op body) {
        Lock gate = writeGate.readLock();
        gate.lock();
        try {
            if (writesStopped) {
                r.replyErr(Errno.EROFS.value());
            } else {
                barrier(r, op, what, body);
            }
        } finally {
            gate.unlock();
        }
    }

    private void countError(Errno e) {
        if (e == Errno.EIO) {
            metrics.error(ErrorKind.EIO);
        } else if (e == Errno.ENOSPC) {
            metrics.error(ErrorKind.CACHE_FULL);
        }
    }

    /** Errors that are part of normal operation (ENOENT on lookup) rather than worth a log line. */
    private static boolean routine(Errno e) {
        return switch (e) {
            case ENOENT, EEXIST, ENOTEMPTY, ENODATA, ENAMETOOLONG, ENOTDIR, EISDIR, EINVAL, ERANGE, EPERM, EACCES, ENOTSUP -> true;
            default -> false;
        };
    }

    private static Caller caller(Request r) {
        return new Caller(r.uid(), r.gid());
    }

    private static Attr attr(Inode i) {
        return new Attr(i.ino(), i.mode(), i.nlink(), i.uid(), i.gid(), i.size(), i.atimeNs(), i.mtimeNs(), i.ctimeNs(),
                i.rdev(), IO_SIZE);
    }

    /** Gives the kernel {@code inode} as {@code name} in {@code parent}, counting the lookup first so a quick forget finds it. */
    private void replyEntry(Request r, long parent, String name, Inode inode) {
        names.entered(parent, name, inode.ino(), inode.isDir());
        r.replyEntry(attr(inode), attrTimeout, entryTimeout);
    }

    // ---- names ----------------------------------------------------------------------------

    /**
     * The path of inode {@code ino} by a name the kernel was given, checked to still lead to it:
     * another site may have moved a name before its change reached {@link #entryChanged}, and a
     * stale path must fail (ENOENT, and the kernel looks the name up again) rather than reach
     * another file. Null for a file the kernel holds without a name (unlinked while open).
     * Changes pass the kernel's inode with the path instead ({@code vfs.create(parent, path, ...)},
     * {@code vfs.chmod(ino, path, ...)}), and the VFS checks it inside the change's own transaction.
     */
    private String pathOf(long ino) throws FsException {
        String path = names.path(ino);
        if (path != null && ino != ROOT && vfs.resolve(path) != ino) {
            throw new FsException(Errno.ENOENT, path + " no longer names inode " + ino + "; it was moved meanwhile");
        }
        return path;
    }

    @Override
    public void lookup(Request r, long parent, String name) {
        barrier(r, "lookup", name, () -> replyEntry(r, parent, name, vfs.lookup(parent, name)));
    }

    @Override
    public void forget(Request r, long ino, long nlookup) {
        names.forget(ino, nlookup);
        r.replyNone();
    }

    @Override
    public void getattr(Request r, long ino) {
        barrier(r, "getattr", ino, () -> r.replyAttr(attr(vfs.getattr(ino)), attrTimeout));
    }

    private static void holdWhileExists(Path file) throws InterruptedException {
        while (Files.exists(file)) {
            Thread.sleep(10);
        }
    }

    @Override
    public void setattr(Request r, long ino, SetAttrs c) {
        change(r, "setattr", ino, () -> {
            if (c.size().isPresent()) {
                vfs.truncate(ino, c.size().getAsLong());
            }
            boolean named = c.mode().isPresent() || c.uid().isPresent() || c.gid().isPresent() || c.atimeNow()
                    || c.mtimeNow() || c.atimeNs().isPresent() || c.mtimeNs().isPresent();
            String path = named ? names.path(ino) : null;
            if (c.mode().isPresent()) {
                vfs.chmod(ino, path, c.mode().getAsInt());
            }
            if (c.uid().isPresent() || c.gid().isPresent()) {
                vfs.chown(ino, path, c.uid().isPresent() ? c.uid().getAsInt() & 0xffffffffL : -1,
                        c.gid().isPresent() ? c.gid().getAsInt() & 0xffffffffL : -1);
            }
            if (c.atimeNow() || c.mtimeNow() || c.atimeNs().isPresent() || c.mtimeNs().isPresent()) {
                long a = c.atimeNs().orElse(0);
                long m = c.mtimeNs().orElse(0);
                vfs.utimens(ino, path, Math.floorDiv(a, 1_000_000_000L), nsField(c.atimeNow(), c.atimeNs().isPresent(), a),
                        Math.floorDiv(m, 1_000_000_000L), nsField(c.mtimeNow(), c.mtimeNs().isPresent(), m));
            }
            r.replyAttr(attr(vfs.getattr(ino)), attrTimeout);
        });
    }

    /** The nanoseconds field utimens takes: now, leave alone, or the given time's fraction. */
    private static long nsField(boolean now, boolean given, long ns) {
        if (now) {
            return Vfs.UTIME_NOW;
        }
        return given ? Math.floorMod(ns, 1_000_000_000L) : Vfs.UTIME_OMIT;
    }

    @Override
    public void readlink(Request r, long ino) {
        barrier(r, "readlink", ino, () -> r.replyReadlink(vfs.readlink(ino)));
    }

    @Override
    public void mknod(Request r, long parent, String name, int mode, long rdev) {
        change(r, "mknod", name, () -> replyEntry(r, parent, name, vfs.mknod(parent, names.child(parent, name), mode, rdev, caller(r))));
    }

    @Override
    public void mkdir(Request r, long parent, String name, int mode) {
        change(r, "mkdir", name, () -> replyEntry(r, parent, name, vfs.mkdir(parent, names.child(parent, name), mode, caller(r))));
    }

    @Override
    public void symlink(Request r, String target, long parent, String name) {
        change(r, "symlink", name, () -> replyEntry(r, parent, name, vfs.symlink(target, parent, names.child(parent, name), caller(r))));
    }

    @Override
    public void unlink(Request r, long parent, String name) {
        change(r, "unlink", name, () -> {
            vfs.unlink(parent, names.child(parent, name));
            names.removed(parent, name);
            r.replyErr(0);
        });
    }

    @Override
    public void rmdir(Request r, long parent, String name) {
        change(r, "rmdir", name, () -> {
            vfs.rmdir(parent, names.child(parent, name));
            names.removed(parent, name);
            r.replyErr(0);
        });
    }

    @Override
    public void rename(Request r, long parent, String name, long newParent, String newName) {
        change(r, "rename", name, () -> {
            vfs.rename(parent, names.child(parent, name), newParent, names.child(newParent, newName));
            names.renamed(parent, name, newParent, newName);
            r.replyErr(0);
        });
    }

    @Override
    public void link(Request r, long ino, long newParent, String newName) {
        change(r, "link", newName, () -> {
            String existing = names.path(ino);
            if (existing == null) {
                throw new FsException(Errno.ENOENT, "the file has no name left to link to");
            }
            vfs.link(ino, existing, newParent, names.child(newParent, newName));
            replyEntry(r, newParent, newName, vfs.getattr(ino));
        });
    }

    // ---- open files -----------------------------------------------------------------------

    @Override
    public void create(Request r, long parent, String name, int mode, OpenFile fi) {
        change(r, "create", name, () -> {
            long fh = vfs.create(parent, names.child(parent, name), mode, fi.flags(), caller(r));
            Inode inode;
            try {
                inode = vfs.getattr(vfs.inoOf(fh));
            } catch (FsException | RuntimeException e) {
                vfs.release(fh);
                throw e;
            }
            fi.fh(fh);
            names.entered(parent, name, inode.ino(), false);
            r.replyCreate(attr(inode), attrTimeout, entryTimeout, fi);
        });
    }

    /**
     * The kernel keeps the file's cached pages across opens ({@code keep_cache}): every change to a
     * file's content reaches the kernel's page cache first (writes and truncates through this mount
     * pass through it; a write the daemon fails leaves no page cached) or is announced to it (another
     * site's change, {@link #inodeChanged}, which drops the pages). Without it each open threw the
     * pages away, and reading a small file just written cost a read request per open.
     *
     * <p>An open that cannot write is closed without a flush request ({@link OpenFile#noFlush}): its
     * flush commits and reports nothing. Measured on this 2-core VM, where a request's round trip
     * costs about 70 us (two cross-CPU wake-ups), open+close of a file went from 118 to 85 us (median
     * of five rounds of 10,000; bindfs 72 us).
     */
    @Override
    public void open(Request r, long ino, OpenFile fi) {
        int flags = fi.flags();
        boolean readOnly = (flags & O_ACCMODE) == 0 && (flags & O_TRUNC) == 0;
        Op body = () -> {
            fi.fh(vfs.open(ino, flags));
            fi.keepCache(true);
            // nothing to commit or report at close (locks are the kernel's: no getlk/setlk here)
            fi.noFlush(readOnly);
            r.replyOpen(fi);
        };
        if (!readOnly) {
            change(r, "open", ino, body);
        } else {
            barrier(r, "open", ino, body);
        }
    }

    @Override
    public void read(Request r, long ino, long size, long off, long fh) {
        barrier(r, "read", ino, () -> {
            byte[] tmp = buffer((int) size);
            int n = vfs.read(fh, off, tmp, (int) size);
            r.replyBuf(tmp, 0, n);
        });
    }

    @Override
    public void write(Request r, long ino, ByteBuffer data, long off, long fh) {
        change(r, "write", ino, () -> r.replyWrite(vfs.write(fh, off, data.array(), data.remaining())));
    }

    private static byte[] buffer(int size) {
        byte[] b = IO_BUF.get();
        if (b.length < size) {
            b = new byte[size];
            IO_BUF.set(b);
        }
        return b;
    }

    @Override
    public void flush(Request r, long ino, long fh) {
        barrier(r, "flush", ino, () -> {
            vfs.flush(fh);
            r.replyErr(0);
        });
    }

    @Override
    public void release(Request r, long ino, long fh) {
        barrier(r, "release", ino, () -> {
            vfs.release(fh);
            r.replyErr(0);
        });
    }

    @Override
    public void fsync(Request r, long ino, boolean datasync, long fh) {
        barrier(r, "fsync", ino, () -> {
            vfs.fsync(fh);
            r.replyErr(0);
        });
    }

    // ---- directories ----------------------------------------------------------------------

    @Override
    public void opendir(Request r, long ino, OpenFile fi) {
        barrier(r, "opendir", ino, () -> {
            if (!vfs.getattr(ino).isDir()) {
                throw new FsException(Errno.ENOTDIR, "not a directory");
            }
            fi.fh(nextDirHandle.getAndIncrement());
            r.replyOpen(fi);
        });
    }

    @Override
    public void readdir(Request r, long ino, long size, long off, long fh) {
        barrier(r, "readdir", ino, () -> {
            List<Dirent> entries = off == 0 ? null : listings.get(fh);
            if (entries == null) {
                entries = listing(ino);
                listings.put(fh, entries);
            }
            r.replyDir(entries, off, size);
        });
    }

    private List<Dirent> listing(long dir) throws FsException {
        List<DirEntry> list = vfs.readdir(dir);
        List<Dirent> out = new ArrayList<>(list.size() + 2);
        long parent = dir == ROOT ? ROOT : names.parentOf(dir);
        out.add(new Dirent(".", dir, Inode.S_IFDIR));
        out.add(new Dirent("..", parent == 0 ? dir : parent, Inode.S_IFDIR));
        for (DirEntry e : list) {
            out.add(new Dirent(e.name(), e.ino(), e.type()));
        }
        return out;
    }

    @Override
    public void releasedir(Request r, long ino, long fh) {
        listings.remove(fh);
        r.replyErr(0);
    }

    @Override
    public void fsyncdir(Request r, long ino, boolean datasync, long fh) {
        barrier(r, "fsyncdir", ino, () -> {
            vfs.syncAll();
            r.replyErr(0);
        });
    }

    @Override
    public void statfs(Request r, long ino) {
        barrier(r, "statfs", ino, () -> {
            if (HOLD_STATFS != null) {
                holdWhileExists(HOLD_STATFS);
            }
            FsStats s = vfs.statfs();
            r.replyStatfs(STAT_BLOCK, s.totalBytes() / STAT_BLOCK, s.freeBytes() / STAT_BLOCK, s.files() + (1L << 32), 1L << 32,
                    Vfs.NAME_MAX);
        });
    }

    // ---- extended attributes --------------------------------------------------------------

    @Override
    public void setxattr(Request r, long ino, String name, byte[] value, int flags) {
        change(r, "setxattr", ino, () -> {
            vfs.setxattr(ino, names.path(ino), name, value, flags, caller(r));
            r.replyErr(0);
        });
    }

    @Override
    public void getxattr(Request r, long ino, String name, long size) {
        barrier(r, "getxattr", ino, () -> {
            String path = Vfs.SYNCED_XATTR.equals(name) ? pathOf(ino) : null;
            r.replyXattrValue(vfs.getxattr(ino, path, name), size);
        });
    }

    @Override
    public void listxattr(Request r, long ino, long size) {
        barrier(r, "listxattr", ino, () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String n : vfs.listxattr(ino)) {
                out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
            r.replyXattrValue(out.toByteArray(), size);
        });
    }

    @Override
    public void removexattr(Request r, long ino, String name) {
        change(r, "removexattr", ino, () -> {
            vfs.removexattr(ino, names.path(ino), name);
            r.replyErr(0);
        });
    }
}
