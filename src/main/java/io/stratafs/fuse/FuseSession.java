package io.stratafs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
 * Runs libfuse 2's request loop on Java threads of our own instead of {@code fuse_main}'s native
 * worker threads.
 *
 * <p>jffi attaches a native thread to the JVM for each callback and detaches it again afterwards
 * until that thread has made 1,000 calls. Under libfuse's own loop, each request of a fresh mount
 * therefore created and dropped a {@code java.lang.Thread} with fresh thread-locals: about 10,000
 * of them in the first seconds of reading a 1 GiB file, which ran at 164 MB/s against 717 MB/s once
 * the threads had stuck. Our threads are attached for life, so every callback is a plain up-call
 * from the first request on. The loop is the one {@code fuse_loop_mt} runs: receive a request,
 * process it, until the kernel ends the connection (unmount) or a read fails.
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

    FuseSession() {
        lib = LibraryLoader.create(Lib.class).failImmediately().load("fuse");
    }

    /**
     * Mounts with {@code args} (as for {@code fuse_main}: a program name, "-f", the mountpoint,
     * options) and serves on {@code threads} threads until unmounted.
     */
    void serve(FuseOperations ops, Path mountpoint, String[] args, int threads) throws InterruptedException {
        List<Pointer> keep = new ArrayList<>();
        Pointer argv = nativeArgv(args, keep);
        PointerByReference mountpointOut = new PointerByReference();
        Pointer fuse = lib.fuse_setup(args.length, argv, ops, Struct.size(ops), mountpointOut, new IntByReference(), null);
        if (fuse == null) {
            throw new IllegalStateException("libfuse could not mount " + mountpoint + " (libfuse printed why on stderr)");
        }
        Pointer session = lib.fuse_get_session(fuse);
        Pointer chan = lib.fuse_session_next_chan(session, null);
        long bufsize = lib.fuse_chan_bufsize(chan);
        CountDownLatch firstDone = new CountDownLatch(1);
        boolean[] failed = new boolean[1];
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    if (!loop(session, chan, bufsize)) {
                        failed[0] = true;
                    }
                } finally {
                    firstDone.countDown();
                }
            }, "stratafs-fuse-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
        firstDone.await();
        if (failed[0]) {
            // The others are blocked reading /dev/fuse; a lazy unmount ends the connection and wakes them.
            lazyUnmount(mountpoint);
        }
        for (Thread t : workers) {
            t.join();
        }
        lib.fuse_teardown(fuse, mountpointOut.getValue());
        keep.clear();
    }

    /** One worker: returns false when it stopped on a read error rather than on unmount. */
    private boolean loop(Pointer session, Pointer chan, long bufsize) {
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
            lib.fuse_session_process_buf(session, buf, from.getPointer(0));
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
