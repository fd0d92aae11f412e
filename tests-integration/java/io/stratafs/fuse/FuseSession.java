package io.stratafs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.size_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.struct.FuseOperations;

/**
 * The request loop StrataFS ran under libfuse 2's path API until it moved to the low-level API
 * ({@code io.stratafs.fuse.lowlevel.LowLevelMount} runs the same loop there); kept beside the tests
 * that compare the two APIs over one filesystem ({@code FuseApiBench}, {@code LowLevelMountIT}).
 *
 * <p>Runs libfuse 2's request loop on Java threads of our own instead of {@code fuse_main}'s native
 * worker threads.
 *
 * <p>jffi attaches a native thread to the JVM for each callback and detaches it again afterwards
 * until that thread has made 1,000 calls. Under libfuse's own loop, each request of a fresh mount
 * therefore created and dropped a {@code java.lang.Thread} with fresh thread-locals: about 10,000
 * of them in the first seconds of reading a 1 GiB file, which ran at 164 MB/s (247 MB/s with this
 * loop). Our threads are attached for life, so every callback is a plain up-call from the first
 * request on. The loop is the one {@code fuse_loop_mt} runs: receive a request,
 * process it, until the kernel ends the connection (unmount) or a read fails; like it, the pool
 * grows by one thread whenever every thread is busy, so requests blocked on a slow backend never
 * starve the rest. Threads stay until unmount.
 */
final class FuseSession {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** Size of {@code struct fuse_buf} on LP64: size_t size, int flags, void *mem, int fd, off_t pos. */
    private static final int FUSE_BUF_BYTES = 40;

    /** The libfuse 2 calls a request loop needs; jnr-fuse binds only {@code fuse_main_real}. */
    public interface Lib {
        Pointer fuse_setup(int argc, Pointer argv, FuseOperations op, @size_t long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer session, Pointer chan);

        @size_t long fuse_chan_bufsize(Pointer chan);

        int fuse_session_receive_buf(Pointer session, Pointer buf, Pointer chanOut);

        void fuse_session_process_buf(Pointer session, Pointer buf, Pointer chan);

        int fuse_session_exited(Pointer session);

        void fuse_session_exit(Pointer session);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);
    }

    private final Lib lib;
    private final Runtime runtime = Runtime.getSystemRuntime();
    private final int minThreads;
    private final int maxThreads;
    /** Workers waiting for a request; when the last one takes one, another starts (as fuse_loop_mt does). */
    private final AtomicInteger idle = new AtomicInteger();
    private final List<Thread> workers = new ArrayList<>();
    private final CountDownLatch firstDone = new CountDownLatch(1);
    private volatile boolean failed;
    private boolean stopping;
    private Pointer session;
    private Pointer chan;
    private long bufsize;

    /** Serves on {@code minThreads} threads, growing to at most {@code maxThreads} while all are busy. */
    FuseSession(int minThreads, int maxThreads) {
        this.lib = LibraryLoader.create(Lib.class).failImmediately().load("fuse");
        this.minThreads = minThreads;
        this.maxThreads = maxThreads;
    }

    /**
     * Mounts with {@code args} (as for {@code fuse_main}: a program name, "-f", the mountpoint,
     * options) and serves until unmounted. {@code mounted} runs once libfuse has mounted and
     * accepted every option: fuse_setup mounts before it parses its own options, so a bad option
     * shows a mount in /proc/mounts for a moment before fuse_setup takes it down and fails.
     */
    void serve(FuseOperations ops, Path mountpoint, String[] args, Runnable mounted) throws InterruptedException {
        List<Pointer> keep = new ArrayList<>();
        Pointer argv = nativeArgv(args, keep);
        PointerByReference mountpointOut = new PointerByReference();
        Pointer fuse = lib.fuse_setup(args.length, argv, ops, Struct.size(ops), mountpointOut, new IntByReference(), null);
        if (fuse == null) {
            throw new IllegalStateException("libfuse could not mount " + mountpoint + " (libfuse printed why on stderr)");
        }
        mounted.run();
        session = lib.fuse_get_session(fuse);
        chan = lib.fuse_session_next_chan(session, null);
        bufsize = lib.fuse_chan_bufsize(chan);
        for (int i = 0; i < minThreads; i++) {
            startWorker();
        }
        firstDone.await();
        if (failed) {
            // The others are blocked reading /dev/fuse; a lazy unmount ends the connection and wakes them.
            lazyUnmount(mountpoint);
        }
        List<Thread> all;
        synchronized (workers) {
            stopping = true;
            all = new ArrayList<>(workers);
        }
        for (Thread t : all) {
            t.join();
        }
        lib.fuse_teardown(fuse, mountpointOut.getValue());
        keep.clear();
    }

    private void startWorker() {
        synchronized (workers) {
            if (stopping || workers.size() >= maxThreads) {
                return;
            }
            Thread t = new Thread(() -> {
                try {
                    if (!loop()) {
                        failed = true;
                    }
                } finally {
                    firstDone.countDown();
                }
            }, "stratafs-fuse-" + workers.size());
            t.setDaemon(true);
            workers.add(t);
            idle.incrementAndGet();
            t.start();
        }
    }

    /** One worker: returns false when it stopped on a read error rather than on unmount. */
    private boolean loop() {
        Pointer mem = Memory.allocateDirect(runtime, (int) bufsize);
        Pointer buf = Memory.allocateDirect(runtime, FUSE_BUF_BYTES);
        Pointer from = Memory.allocateDirect(runtime, runtime.addressSize());
        while (lib.fuse_session_exited(session) == 0) {
            buf.putLong(0, bufsize);
            buf.putInt(8, 0);
            buf.putPointer(16, mem);
            buf.putInt(24, 0);
            buf.putLong(32, 0);
            from.putPointer(0, chan);
            int res = lib.fuse_session_receive_buf(session, buf, from);
            if (res == -EINTR || res == -EAGAIN) {
                continue;
            }
            if (res < 0) {
                LOG.error("reading /dev/fuse failed with errno {}; unmounting", -res);
                lib.fuse_session_exit(session);
                return false;
            }
            if (res == 0) {
                return true;
            }
            if (idle.decrementAndGet() == 0) {
                startWorker();
            }
            try {
                lib.fuse_session_process_buf(session, buf, from.getPointer(0));
            } finally {
                idle.incrementAndGet();
            }
        }
        return true;
    }

    private Pointer nativeArgv(String[] args, List<Pointer> keep) {
        int ptr = runtime.addressSize();
        Pointer argv = Memory.allocateDirect(runtime, (args.length + 1) * ptr, true);
        for (int i = 0; i < args.length; i++) {
            byte[] b = args[i].getBytes(StandardCharsets.UTF_8);
            Pointer s = Memory.allocateDirect(runtime, b.length + 1, true);
            s.put(0, b, 0, b.length);
            argv.putPointer((long) i * ptr, s);
            keep.add(s);
        }
        keep.add(argv);
        return argv;
    }

    private static void lazyUnmount(Path mountpoint) {
        try {
            new ProcessBuilder("fusermount", "-u", "-z", mountpoint.toString()).inheritIO().start().waitFor();
        } catch (IOException e) {
            LOG.error("fusermount -u -z {} failed: {}", mountpoint, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
