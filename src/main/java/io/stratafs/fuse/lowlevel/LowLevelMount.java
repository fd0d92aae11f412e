package io.stratafs.fuse.lowlevel;

import static io.stratafs.fuse.lowlevel.Libfuse.LIB;

import io.stratafs.os.Libc;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Consumer;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * A mounted low-level filesystem: {@code fuse_mount} and {@code fuse_lowlevel_new}, then the request
 * loop on Java threads of our own ({@link SessionLoop}), growing by one thread whenever all are
 * busy, up to a bound. The kernel ends the session on unmount; {@link #close}
 * unmounts if nobody did, waits for the threads and frees libfuse's session and channel.
 *
 * <p>Each callback runs behind one barrier: a method that throws is logged and answered with EIO,
 * so no exception reaches native code and no request is left unanswered.
 */
public final class LowLevelMount implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LowLevelMount.class);
    private static final int EIO = 5;
    private static final int ENOENT = 2;
    /** {@code struct fuse_args}: int argc, char **argv, int allocated. */
    private static final int FUSE_ARGS_BYTES = 24;
    private static final int NAME_MAX_BYTES = 4096;
    /** The bound on serving threads when every one is busy (writers held at the dirty limit, a slow backend). */
    private static final int MAX_THREADS = 256;
    /** How long the reader polls /dev/fuse after a request before it sleeps: covers a caller's next call. */
    public static final long DEFAULT_SPIN_MICROS = 100;
    /** How long the reader may serve one request before another thread takes over reading. */
    private static final long RELIEF_NANOS = 1_000_000;
    private static final ThreadLocal<byte[]> WRITE_BUF = ThreadLocal.withInitial(() -> new byte[128 << 10]);

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final LowLevelFileSystem fs;
    private final Path mountpoint;
    private final byte[] mountpointC;
    /** The closures and the ops struct: libfuse keeps pointers into both for the session's life. */
    private final List<Object> keepAlive = new ArrayList<>();
    private boolean closed;
    private Pointer session;
    private Pointer chan;
    private SessionLoop loop;

    private LowLevelMount(LowLevelFileSystem fs, Path mountpoint) {
        this.fs = fs;
        this.mountpoint = mountpoint.toAbsolutePath();
        this.mountpointC = Libc.cString(this.mountpoint.toString());
    }

    /**
     * Mounts {@code fs} at {@code mountpoint} with libfuse options ({@code "allow_other"},
     * {@code "max_write=131072"}, ...; the kernel's and libfuse's low-level ones alike) and starts
     * serving on {@code threads} threads. Fails with a sentence if libfuse refuses.
     */
    public static LowLevelMount mount(LowLevelFileSystem fs, Path mountpoint, List<String> options, int threads) {
        return mount(fs, mountpoint, options, threads, DEFAULT_SPIN_MICROS);
    }

    /**
     * As {@link #mount(LowLevelFileSystem, Path, List, int)}, with one reader polling /dev/fuse for
     * {@code spinMicros} µs after each request ({@link SessionLoop}); 0 has every thread sleep in
     * the kernel until a request comes.
     */
    public static LowLevelMount mount(LowLevelFileSystem fs, Path mountpoint, List<String> options, int threads, long spinMicros) {
        if (threads < 1) {
            throw new IllegalArgumentException("a low-level mount needs at least one thread, not " + threads);
        }
        if (spinMicros < 0) {
            throw new IllegalArgumentException("the time to poll /dev/fuse cannot be negative: " + spinMicros + " µs");
        }
        LowLevelMount m = new LowLevelMount(fs, mountpoint);
        m.start(options, threads, spinMicros);
        return m;
    }

    private void start(List<String> options, int threads, long spinMicros) {
        Pointer ops = opsTable();
        List<Pointer> strings = new ArrayList<>();
        Pointer args = fuseArgs(options, strings);
        chan = LIB.fuse_mount(mountpointC, args);
        if (chan == null) {
            LIB.fuse_opt_free_args(args);
            throw new IllegalStateException("libfuse could not mount " + mountpoint + " with options " + options
                    + " (libfuse printed why on stderr)");
        }
        session = LIB.fuse_lowlevel_new(args, ops, (long) OpsSlot.values().length * runtime.addressSize(), null);
        LIB.fuse_opt_free_args(args);
        if (session == null) {
            LIB.fuse_unmount(mountpointC, chan);
            throw new IllegalStateException("libfuse refused the options " + options + " for " + mountpoint
                    + " (libfuse printed why on stderr)");
        }
        LIB.fuse_session_add_chan(session, chan);
        loop = new SessionLoop(session, chan, "stratafs-ll", MAX_THREADS, mountpoint.toString());
        if (spinMicros == 0 || !loop.startLeading(threads, spinMicros * 1000, RELIEF_NANOS)) {
            loop.start(threads);
        }
    }

    /** How the requests were served so far (leader mode; all zero otherwise). */
    public SessionLoop.Stats stats() {
        return loop.stats();
    }

    public Path mountpoint() {
        return mountpoint;
    }

    /**
     * Tells the kernel to forget the name {@code name} in directory {@code parent}, so the next
     * lookup asks the filesystem again instead of trusting its entry cache. Returns false when the
     * kernel had no such entry cached. Must not be called from inside a callback on that directory
     * (the kernel holds the directory's lock while it waits for the callback).
     */
    public boolean invalidateEntry(long parent, String name) {
        byte[] c = Libc.cString(name);
        return notified(LIB.fuse_lowlevel_notify_inval_entry(chan, parent, c, c.length - 1), "entry " + name + " in " + parent);
    }

    /**
     * Tells the kernel that the attributes of {@code ino} and its cached data from {@code off} for
     * {@code len} bytes (0 = to the end; a negative {@code off} drops attributes only) are stale.
     * Returns false when the kernel does not know the inode.
     */
    public boolean invalidateInode(long ino, long off, long len) {
        return notified(LIB.fuse_lowlevel_notify_inval_inode(chan, ino, off, len), "inode " + ino);
    }

    private boolean notified(int res, String what) {
        if (res == -ENOENT) {
            return false;
        }
        if (res < 0) {
            throw new IllegalStateException("the kernel refused to invalidate " + what + " on " + mountpoint + " (errno " + -res + ")");
        }
        return true;
    }

    /**
     * Waits until the kernel ends the session (an unmount, by anyone) and every serving thread has
     * returned; {@link #close} then frees libfuse's state without unmounting again.
     */
    public void awaitEnd() throws InterruptedException {
        loop.awaitEnd();
    }

    /**
     * Unmounts if still mounted, waits for the serving threads and frees libfuse's session and
     * channel. When the mount is busy the unmount is lazy, and the wait lasts until its last user
     * lets go (the kernel ends the session only then).
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        if (!loop.ended() && !run("fusermount", "-u", mountpoint.toString())) {
            run("fusermount", "-u", "-z", mountpoint.toString());
        }
        loop.awaitEnd();
        loop.destroy();
        LIB.fuse_session_remove_chan(chan);
        LIB.fuse_session_destroy(session);
        LIB.fuse_unmount(mountpointC, chan);
    }

    private static boolean run(String... command) throws InterruptedException {
        try {
            return new ProcessBuilder(command).inheritIO().start().waitFor() == 0;
        } catch (IOException e) {
            LOG.error("{} failed: {}", String.join(" ", command), e.toString());
            return false;
        }
    }

    private Pointer fuseArgs(List<String> options, List<Pointer> keep) {
        List<String> argv = new ArrayList<>(List.of("stratafs-lowlevel"));
        if (!options.isEmpty()) {
            argv.add("-o");
            argv.add(String.join(",", options));
        }
        int ptr = runtime.addressSize();
        Pointer array = Memory.allocateDirect(runtime, (argv.size() + 1) * ptr, true);
        for (int i = 0; i < argv.size(); i++) {
            byte[] c = Libc.cString(argv.get(i));
            Pointer s = Memory.allocateDirect(runtime, c.length, true);
            s.put(0, c, 0, c.length);
            array.putPointer((long) i * ptr, s);
            keep.add(s);
        }
        keep.add(array);
        keepAlive.add(keep);
        Pointer args = Memory.allocateDirect(runtime, FUSE_ARGS_BYTES, true);
        args.putInt(0, argv.size());
        args.putPointer(8, array);
        args.putInt(16, 0);
        return args;
    }

    /** The ops struct with a closure in each slot {@code fs} overrides; the others stay NULL. */
    private Pointer opsTable() {
        Map<OpsSlot, Object> closures = closures();
        Pointer ops = Memory.allocateDirect(runtime, OpsSlot.values().length * runtime.addressSize(), true);
        for (Map.Entry<OpsSlot, Object> e : closures.entrySet()) {
            if (!overridden(e.getKey())) {
                continue;
            }
            Object closure = e.getValue();
            @SuppressWarnings("unchecked")
            Class<Object> type = (Class<Object>) closure.getClass().getInterfaces()[0];
            Pointer p = runtime.getClosureManager().getClosurePointer(type, closure);
            ops.putPointer((long) e.getKey().ordinal() * runtime.addressSize(), p);
            keepAlive.add(closure);
            keepAlive.add(p);
        }
        keepAlive.add(ops);
        return ops;
    }

    private boolean overridden(OpsSlot slot) {
        String name = slot.name().toLowerCase(Locale.ROOT);
        for (Method m : fs.getClass().getMethods()) {
            if (m.getName().equals(name) && m.getDeclaringClass() != LowLevelFileSystem.class && !m.isDefault()) {
                return true;
            }
        }
        return false;
    }

    private Map<OpsSlot, Object> closures() {
        Map<OpsSlot, Object> c = new EnumMap<>(OpsSlot.class);
        c.put(OpsSlot.LOOKUP, (Callbacks.NameOp) (req, parent, name) -> serve(req, "lookup", r -> fs.lookup(r, parent, str(name))));
        c.put(OpsSlot.FORGET, (Callbacks.Forget) (req, ino, n) -> serve(req, "forget", r -> fs.forget(r, ino, n)));
        c.put(OpsSlot.GETATTR, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "getattr", r -> fs.getattr(r, ino)));
        c.put(OpsSlot.SETATTR, (Callbacks.SetAttr) (req, ino, attr, toSet, fi) ->
                serve(req, "setattr", r -> fs.setattr(r, ino, setAttrs(attr, toSet))));
        c.put(OpsSlot.MKDIR, (Callbacks.Mkdir) (req, parent, name, mode) -> serve(req, "mkdir", r -> fs.mkdir(r, parent, str(name), mode)));
        c.put(OpsSlot.UNLINK, (Callbacks.NameOp) (req, parent, name) -> serve(req, "unlink", r -> fs.unlink(r, parent, str(name))));
        c.put(OpsSlot.RMDIR, (Callbacks.NameOp) (req, parent, name) -> serve(req, "rmdir", r -> fs.rmdir(r, parent, str(name))));
        c.put(OpsSlot.RENAME, (Callbacks.Rename) (req, p, n, np, nn) -> serve(req, "rename", r -> fs.rename(r, p, str(n), np, str(nn))));
        c.put(OpsSlot.LINK, (Callbacks.Link) (req, ino, np, nn) -> serve(req, "link", r -> fs.link(r, ino, np, str(nn))));
        c.put(OpsSlot.OPEN, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "open", r -> fs.open(r, ino, new OpenFile(fi))));
        c.put(OpsSlot.READ, (Callbacks.Read) (req, ino, size, off, fi) -> serve(req, "read", r -> fs.read(r, ino, size, off, fh(fi))));
        c.put(OpsSlot.WRITE, (Callbacks.Write) (req, ino, data, size, off, fi) ->
                serve(req, "write", r -> fs.write(r, ino, copy(data, size), off, fh(fi))));
        c.put(OpsSlot.FLUSH, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "flush", r -> fs.flush(r, ino, fh(fi))));
        c.put(OpsSlot.RELEASE, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "release", r -> fs.release(r, ino, fh(fi))));
        c.put(OpsSlot.FSYNC, (Callbacks.Fsync) (req, ino, ds, fi) -> serve(req, "fsync", r -> fs.fsync(r, ino, ds != 0, fh(fi))));
        c.put(OpsSlot.OPENDIR, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "opendir", r -> fs.opendir(r, ino, new OpenFile(fi))));
        c.put(OpsSlot.READDIR, (Callbacks.Read) (req, ino, size, off, fi) -> serve(req, "readdir", r -> fs.readdir(r, ino, size, off, fh(fi))));
        c.put(OpsSlot.RELEASEDIR, (Callbacks.FileOp) (req, ino, fi) -> serve(req, "releasedir", r -> fs.releasedir(r, ino, fh(fi))));
        c.put(OpsSlot.STATFS, (Callbacks.Statfs) (req, ino) -> serve(req, "statfs", r -> fs.statfs(r, ino)));
        c.put(OpsSlot.READLINK, (Callbacks.Statfs) (req, ino) -> serve(req, "readlink", r -> fs.readlink(r, ino)));
        c.put(OpsSlot.MKNOD, (Callbacks.Mknod) (req, parent, name, mode, rdev) ->
                serve(req, "mknod", r -> fs.mknod(r, parent, str(name), mode, rdev)));
        c.put(OpsSlot.SYMLINK, (Callbacks.Symlink) (req, link, parent, name) ->
                serve(req, "symlink", r -> fs.symlink(r, str(link), parent, str(name))));
        c.put(OpsSlot.FSYNCDIR, (Callbacks.Fsync) (req, ino, ds, fi) -> serve(req, "fsyncdir", r -> fs.fsyncdir(r, ino, ds != 0, fh(fi))));
        c.put(OpsSlot.SETXATTR, (Callbacks.SetXattr) (req, ino, name, value, size, flags) ->
                serve(req, "setxattr", r -> fs.setxattr(r, ino, str(name), bytes(value, size), flags)));
        c.put(OpsSlot.GETXATTR, (Callbacks.GetXattr) (req, ino, name, size) ->
                serve(req, "getxattr", r -> fs.getxattr(r, ino, str(name), size)));
        c.put(OpsSlot.LISTXATTR, (Callbacks.ListXattr) (req, ino, size) -> serve(req, "listxattr", r -> fs.listxattr(r, ino, size)));
        c.put(OpsSlot.REMOVEXATTR, (Callbacks.NameOp) (req, ino, name) -> serve(req, "removexattr", r -> fs.removexattr(r, ino, str(name))));
        c.put(OpsSlot.CREATE, (Callbacks.Create) (req, parent, name, mode, fi) ->
                serve(req, "create", r -> fs.create(r, parent, str(name), mode, new OpenFile(fi))));
        return c;
    }

    private void serve(Pointer req, String op, Consumer<Request> body) {
        Request r = new Request(req, loop.replyChannel());
        try {
            body.accept(r);
        } catch (Throwable t) {
            LOG.error("low-level {} failed: {}", op, t.toString(), t);
            if (!r.replied()) {
                r.replyErr(EIO);
            }
        }
    }

    /** A NUL-terminated name: decoded by {@code new String}, which skips jnr's per-call charset decoder. */
    static String str(Pointer name) {
        int max = (int) Math.min(NAME_MAX_BYTES, name.size());
        int len = name.indexOf(0, (byte) 0, max);
        if (len < 0) {
            len = max;
        }
        byte[] b = new byte[len];
        name.get(0, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static long fh(Pointer fi) {
        return OpenFile.fhOf(fi);
    }

    private static byte[] bytes(Pointer data, long size) {
        byte[] b = new byte[(int) size];
        if (size > 0) {
            data.get(0, b, 0, b.length);
        }
        return b;
    }

    private static ByteBuffer copy(Pointer data, long size) {
        byte[] b = WRITE_BUF.get();
        if (b.length < size) {
            b = new byte[(int) size];
            WRITE_BUF.set(b);
        }
        data.get(0, b, 0, (int) size);
        return ByteBuffer.wrap(b, 0, (int) size);
    }

    /** Reads {@code struct stat *attr} as far as {@code to_set} (FUSE_SET_ATTR_* bits) says it matters. */
    private static SetAttrs setAttrs(Pointer attr, int toSet) {
        FileStat st = FileStat.of(attr);
        return new SetAttrs(
                (toSet & 1) != 0 ? OptionalInt.of(st.st_mode.intValue()) : OptionalInt.empty(),
                (toSet & 2) != 0 ? OptionalInt.of(st.st_uid.intValue()) : OptionalInt.empty(),
                (toSet & 4) != 0 ? OptionalInt.of(st.st_gid.intValue()) : OptionalInt.empty(),
                (toSet & 8) != 0 ? OptionalLong.of(st.st_size.longValue()) : OptionalLong.empty(),
                (toSet & 16) != 0 && (toSet & 128) == 0 ? OptionalLong.of(nanos(st.st_atim)) : OptionalLong.empty(),
                (toSet & 128) != 0,
                (toSet & 32) != 0 && (toSet & 256) == 0 ? OptionalLong.of(nanos(st.st_mtim)) : OptionalLong.empty(),
                (toSet & 256) != 0);
    }

    private static long nanos(Timespec t) {
        return t.tv_sec.get() * 1_000_000_000L + t.tv_nsec.longValue();
    }
}
