package io.stratafs.fuse;

import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.vfs.Caller;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.ErrnoTable;
import io.stratafs.vfs.FsStats;
import io.stratafs.vfs.Vfs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The jnr-fuse adapter: translates each callback into one {@link Vfs} call and the outcome into a
 * return code. Every callback passes through {@link #barrier}, which catches everything, logs
 * unexpected failures once with the operation and path, and returns the mapped errno, so no
 * exception ever reaches native code or takes the mount down. Callbacks that change the volume
 * go through {@link #change} first, which a stop closes (EROFS) before the final commit and upload.
 */
public final class StrataFuse extends FuseStubFS {
    private static final Logger LOG = LoggerFactory.getLogger(StrataFuse.class);
    private static final int STAT_BLOCK = 4096;
    /** FUSE threads at start; the kernel keeps up to 12 background requests (read-ahead, writes) in flight. */
    private static final int MIN_LOOP_THREADS = 16;
    /** The bound on FUSE threads when every one is busy (requests waiting on a slow or absent backend). */
    private static final int MAX_LOOP_THREADS = 256;
    private static final int O_ACCMODE = 03;
    private static final int O_TRUNC = 01000;
    /**
     * Test seam for the systemd watchdog (system property {@code stratafs.test.holdRootGetattr=FILE}):
     * while FILE exists, a getattr of the root does not return, as in a mount whose threads hang.
     * Unset in production, where it costs one null check per getattr.
     */
    private static final Path HOLD_ROOT_GETATTR = Optional
            .ofNullable(System.getProperty("stratafs.test.holdRootGetattr")).map(Path::of).orElse(null);
    private static final ThreadLocal<byte[]> IO_BUF = ThreadLocal.withInitial(() -> new byte[128 << 10]);

    private final Vfs vfs;
    private final VolumeMetrics metrics;
    /** Changes hold the read side; {@link #stopWrites} takes the write side to wait them out. */
    private final ReadWriteLock writeGate = new ReentrantReadWriteLock();
    private volatile boolean writesStopped;
    private volatile boolean mounted;

    private StrataFuse(Vfs vfs, VolumeMetrics metrics) {
        this.vfs = vfs;
        this.metrics = metrics;
        allowNullPaths();
    }

    /**
     * The adapter for {@code vfs}, timing every callback into {@code metrics}; fails with a sentence
     * saying what to install when libfuse 2 is missing.
     */
    public static StrataFuse over(Vfs vfs, VolumeMetrics metrics) {
        try {
            return new StrataFuse(vfs, metrics);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("libfuse 2 is not installed (libfuse.so.2 not found); install it: apt-get install libfuse2 fuse3", e);
        }
    }

    /**
     * Sets flag_nullpath_ok and flag_utime_omit_ok in fuse_operations (bits 0 and 2 of the flags
     * word): when libfuse cannot build the path of an open file (its directory was removed), calls
     * on it then arrive with a null path and are served by file handle instead of failing with ENOENT.
     */
    private void allowNullPaths() {
        try {
            Object flag = fuseOperations.getClass().getField("flag_nullpath_ok").get(fuseOperations);
            java.lang.reflect.Method offsetOf = Class.forName("jnr.ffi.Struct$AbstractMember").getDeclaredMethod("offset");
            offsetOf.setAccessible(true);
            long offset = (Long) offsetOf.invoke(flag);
            Pointer ops = Struct.getMemory(fuseOperations);
            ops.putByte(offset, (byte) (ops.getByte(offset) | 0b101));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this jnr-fuse build has no fuse_operations flags to set", e);
        }
    }

    /**
     * Mounts at {@code mountpoint} with the given {@code -o} style arguments and serves requests on
     * threads of our own (see {@link FuseSession}) until unmounted.
     */
    public void serve(Path mountpoint, List<String> fuseArgs) throws InterruptedException {
        List<String> args = new java.util.ArrayList<>(List.of("stratafs", "-f", mountpoint.toAbsolutePath().toString()));
        args.addAll(fuseArgs);
        new FuseSession(MIN_LOOP_THREADS, MAX_LOOP_THREADS).serve(fuseOperations, mountpoint, args.toArray(new String[0]),
                () -> mounted = true);
    }

    /** Whether libfuse mounted with every option accepted (a mount in /proc/mounts alone may be about to fail). */
    public boolean isMounted() {
        return mounted;
    }

    @FunctionalInterface
    private interface Op {
        int run() throws Exception;
    }

    /**
     * Also times the callback into {@code stratafs_fuse_operation_seconds} and counts what reached the
     * caller as EIO or ENOSPC. Timing and recording take about 110 ns of CPU per callback against a
     * round trip of 40 to 70 µs (README, Observability), so they are always on.
     */
    private int barrier(String op, String path, Op body) {
        long start = System.nanoTime();
        try {
            return body.run();
        } catch (Throwable t) {
            Errno e = ErrnoTable.errno(t);
            countError(e);
            boolean unexpected = ErrnoTable.unexpected(t);
            if (unexpected || !routine(e)) {
                LOG.error("{} {} failed with {}: {}", op, path, e, t.toString(), unexpected ? t : null);
            }
            return -e.value();
        } finally {
            metrics.fuseOperation(op).observeNanos(System.nanoTime() - start);
        }
    }

    private void countError(Errno e) {
        if (e == Errno.EIO) {
            metrics.error(ErrorKind.EIO);
        } else if (e == Errno.ENOSPC) {
            metrics.error(ErrorKind.CACHE_FULL);
        }
    }

    /**
     * The barrier for callbacks that change the volume: once {@link #stopWrites} was called they
     * fail with EROFS, so what a stop has committed and uploaded is everything acknowledged.
     */
    private int change(String op, String path, Op body) {
        Lock gate = writeGate.readLock();
        gate.lock();
        try {
            return writesStopped ? -ErrorCodes.EROFS() : barrier(op, path, body);
        } finally {
            gate.unlock();
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

    private static void holdWhileExists(Path file) throws InterruptedException {
        while (Files.exists(file)) {
            Thread.sleep(10);
        }
    }

    /** Errors that are part of normal operation (ENOENT on lookup) rather than worth a log line. */
    private static boolean routine(Errno e) {
        return switch (e) {
            case ENOENT, EEXIST, ENOTEMPTY, ENODATA, ENAMETOOLONG, ENOTDIR, EISDIR, EINVAL, ERANGE, EPERM, EACCES, ENOTSUP -> true;
            default -> false;
        };
    }

    private Caller caller() {
        var ctx = getContext();
        return new Caller((int) ctx.uid.get(), (int) ctx.gid.get());
    }

    private void fill(FileStat stat, Inode inode) {
        stat.st_mode.set(inode.mode());
        stat.st_ino.set(inode.ino());
        stat.st_nlink.set(inode.nlink());
        stat.st_uid.set(inode.uid());
        stat.st_gid.set(inode.gid());
        stat.st_size.set(inode.size());
        stat.st_blksize.set(128 << 10);
        stat.st_blocks.set((inode.size() + 511) / 512);
        stat.st_rdev.set(inode.rdev());
        setTime(stat.st_atim, inode.atimeNs());
        setTime(stat.st_mtim, inode.mtimeNs());
        setTime(stat.st_ctim, inode.ctimeNs());
    }

    private static void setTime(Timespec ts, long ns) {
        ts.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        ts.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    @Override
    public int getattr(String path, FileStat stat) {
        return barrier("getattr", path, () -> {
            if (HOLD_ROOT_GETATTR != null && "/".equals(path)) {
                holdWhileExists(HOLD_ROOT_GETATTR);
            }
            fill(stat, vfs.getattr(path));
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return barrier("fgetattr", path, () -> {
            fill(stat, vfs.getattr(path, fi.fh.get()));
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return barrier("readlink", path, () -> {
            byte[] target = vfs.readlink(path);
            int n = (int) Math.min(target.length, size - 1);
            buf.put(0, target, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
        return change("mknod", path, () -> {
            vfs.mknod(path, (int) mode, rdev, caller());
            return 0;
        });
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return change("mkdir", path, () -> {
            vfs.mkdir(path, (int) mode, caller());
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return change("unlink", path, () -> {
            vfs.unlink(path);
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return change("rmdir", path, () -> {
            vfs.rmdir(path);
            return 0;
        });
    }

    @Override
    public int symlink(String oldpath, String newpath) {
        return change("symlink", newpath, () -> {
            vfs.symlink(oldpath, newpath, caller());
            return 0;
        });
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return change("rename", oldpath, () -> {
            vfs.rename(oldpath, newpath);
            return 0;
        });
    }

    @Override
    public int link(String oldpath, String newpath) {
        return change("link", newpath, () -> {
            vfs.link(oldpath, newpath);
            return 0;
        });
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return change("chmod", path, () -> {
            vfs.chmod(path, (int) mode);
            return 0;
        });
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return change("chown", path, () -> {
            vfs.chown(path, uid, gid);
            return 0;
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return change("truncate", path, () -> {
            vfs.truncate(path, size);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return change("ftruncate", path, () -> {
            vfs.ftruncate(fi.fh.get(), size);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return change("utimens", path, () -> {
            vfs.utimens(path, timespec[0].tv_sec.get(), timespec[0].tv_nsec.longValue(),
                    timespec[1].tv_sec.get(), timespec[1].tv_nsec.longValue());
            return 0;
        });
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return change("create", path, () -> {
            fi.fh.set(vfs.create(path, (int) mode, fi.flags.get(), caller()));
            return 0;
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        int flags = fi.flags.get();
        boolean writes = (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0;
        return writes ? change("open", path, () -> openHandle(path, fi)) : barrier("open", path, () -> openHandle(path, fi));
    }

    private int openHandle(String path, FuseFileInfo fi) throws Exception {
        fi.fh.set(vfs.open(path, fi.flags.get()));
        return 0;
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return barrier("read", path, () -> {
            byte[] tmp = buffer((int) size);
            int n = vfs.read(fi.fh.get(), offset, tmp, (int) size);
            buf.put(0, tmp, 0, n);
            return n;
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return change("write", path, () -> {
            byte[] tmp = buffer((int) size);
            buf.get(0, tmp, 0, (int) size);
            return vfs.write(fi.fh.get(), offset, tmp, (int) size);
        });
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
    public int statfs(String path, Statvfs st) {
        return barrier("statfs", path, () -> {
            FsStats s = vfs.statfs();
            st.f_bsize.set(STAT_BLOCK);
            st.f_frsize.set(STAT_BLOCK);
            st.f_blocks.set(s.totalBytes() / STAT_BLOCK);
            st.f_bfree.set(s.freeBytes() / STAT_BLOCK);
            st.f_bavail.set(s.freeBytes() / STAT_BLOCK);
            st.f_files.set(s.files() + (1L << 32));
            st.f_ffree.set(1L << 32);
            st.f_favail.set(1L << 32);
            st.f_namemax.set(Vfs.NAME_MAX);
            return 0;
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return barrier("flush", path, () -> {
            vfs.flush(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return barrier("release", path, () -> {
            vfs.release(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return barrier("fsync", path, () -> {
            vfs.fsync(fi.fh.get());
            return 0;
        });
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return barrier("fsyncdir", path, () -> {
            vfs.syncAll();
            return 0;
        });
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return change("setxattr", path, () -> {
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            vfs.setxattr(path, name, v, flags, caller());
            return 0;
        });
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        return barrier("getxattr", path, () -> {
            return replyWithSize(vfs.getxattr(path, name), value, size);
        });
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        return barrier("listxattr", path, () -> {
            List<String> names = vfs.listxattr(path);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            for (String n : names) {
                out.writeBytes(n.getBytes(StandardCharsets.UTF_8));
                out.write(0);
            }
            return replyWithSize(out.toByteArray(), list, size);
        });
    }

    /** The xattr reply convention: size 0 asks for the length, a short buffer gets ERANGE. */
    private static int replyWithSize(byte[] data, Pointer dst, long size) {
        if (size == 0) {
            return data.length;
        }
        if (size < data.length) {
            return -ErrorCodes.ERANGE();
        }
        dst.put(0, data, 0, data.length);
        return data.length;
    }

    @Override
    public int removexattr(String path, String name) {
        return change("removexattr", path, () -> {
            vfs.removexattr(path, name);
            return 0;
        });
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        return barrier("readdir", path, () -> {
            List<DirEntry> entries = vfs.readdir(path);
            filter.apply(buf, ".", null, 0);
            filter.apply(buf, "..", null, 0);
            for (DirEntry e : entries) {
                if (filter.apply(buf, e.name(), null, 0) != 0) {
                    return -ErrorCodes.ENOMEM();
                }
            }
            return 0;
        });
    }

    @Override
    public int access(String path, int mask) {
        return barrier("access", path, () -> {
            vfs.resolve(path);
            return 0;
        });
    }
}
