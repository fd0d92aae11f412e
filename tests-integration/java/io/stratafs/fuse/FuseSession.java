package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.SessionLoop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * A libfuse 2 path-API mount served as StrataFS served it until it moved to the low-level API:
 * {@code fuse_setup}, then the request loop on Java threads of our own ({@link SessionLoop}, the loop
 * {@code io.stratafs.fuse.lowlevel.LowLevelMount} runs too) instead of {@code fuse_main}'s native
 * worker threads. Kept beside the tests that compare the two APIs over one filesystem
 * ({@code FuseApiBench}, {@code LowLevelMountIT}).
 */
final class FuseSession {
    private static final Logger LOG = LoggerFactory.getLogger(FuseSession.class);

    /** The libfuse 2 path-API calls a mount needs besides the loop's; jnr-fuse binds only {@code fuse_main_real}. */
    public interface Lib {
        Pointer fuse_setup(int argc, Pointer argv, FuseOperations op, @size_t long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer session, Pointer chan);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);
    }

    private final Lib lib;
    private final Runtime runtime = Runtime.getSystemRuntime();
    private final int minThreads;
    private final int maxThreads;

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
        Pointer session = lib.fuse_get_session(fuse);
        SessionLoop loop = new SessionLoop(session, lib.fuse_session_next_chan(session, null), "stratafs-fuse", maxThreads,
                mountpoint.toString());
        loop.start(minThreads);
        loop.awaitFirstEnd();
        if (loop.failed()) {
            // The others are blocked reading /dev/fuse; a lazy unmount ends the connection and wakes them.
            lazyUnmount(mountpoint);
        }
        loop.awaitEnd();
        lib.fuse_teardown(fuse, mountpointOut.getValue());
        keep.clear();
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
