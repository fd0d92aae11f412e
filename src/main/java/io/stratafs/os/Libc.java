package io.stratafs.os;

import java.nio.charset.StandardCharsets;
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
    /** {@code open(2)} flags and the {@code fcntl(2)} command these callers use (Linux, x86_64 and aarch64). */
    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 02;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECTORY = 0200000;
    public static final int O_CLOEXEC = 02000000;
    public static final int F_SETFL = 4;

    private Libc() {
    }

    /** {@code s} as a NUL-terminated UTF-8 string, for a {@code const char *} argument. */
    public static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
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
