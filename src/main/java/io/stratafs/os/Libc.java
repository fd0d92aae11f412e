package io.stratafs.os;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls StrataFS makes through jnr-ffi, bound once, on first use: the sd_notify datagram
 * ({@code cli.SystemdNotify}), {@code statvfs(2)} ({@code cli.Mounts}), {@code syncfs(2)} for a
 * local directory's grouped uploads ({@code store.SyncFs}), and a second descriptor on a FUSE
 * connection ({@code fuse.lowlevel.DevFuse}). The lowest layer: it imports nothing of ours.
 */
public final class Libc {
    private Libc() {
    }

    /** Public only because jnr-ffi implements it in a generated class. */
    public interface Calls {
        @SaveError
        int socket(int domain, int type, int protocol);

        @SaveError
        @ssize_t long sendto(int fd, @In byte[] buf, @size_t long len, int flags, @In byte[] addr, int addrlen);

        @SaveError
        int open(@In byte[] path, int flags);

        @SaveError
        int ioctl(int fd, long request, @In int[] arg);

        @SaveError
        int fcntl(int fd, int cmd, int arg);

        @SaveError
        int syncfs(int fd);

        int close(int fd);

        String strerror(int errnum);

        @SaveError
        int statvfs(@In byte[] path, @Out byte[] buf);
    }

    /** Loaded when {@link #get} is first called (the JVM initializes a nested class on first use). */
    private static final class Bound {
        static final Calls CALLS = LibraryLoader.create(Calls.class).failImmediately().load("c");
    }

    public static Calls get() {
        return Bound.CALLS;
    }

    /** The errno the last call on this thread left (for calls marked {@code @SaveError}). */
    public static int errno() {
        return jnr.ffi.Runtime.getRuntime(get()).getLastError();
    }
}
