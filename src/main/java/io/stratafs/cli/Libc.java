package io.stratafs.cli;

import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc calls the command line makes through jnr-ffi, bound once, on first use: the sd_notify
 * datagram ({@link SystemdNotify}) and {@code statvfs(2)} ({@link Mounts#statvfs}).
 */
final class Libc {
    private Libc() {
    }

    /** Public only because jnr-ffi implements it in a generated class. */
    public interface Calls {
        @SaveError
        int socket(int domain, int type, int protocol);

        @SaveError
        @ssize_t long sendto(int fd, @In byte[] buf, @size_t long len, int flags, @In byte[] addr, int addrlen);

        int close(int fd);

        String strerror(int errnum);

        @SaveError
        int statvfs(@In byte[] path, @Out byte[] buf);
    }

    /** Loaded when {@link #get} is first called (the JVM initializes a nested class on first use). */
    private static final class Bound {
        static final Calls CALLS = LibraryLoader.create(Calls.class).failImmediately().load("c");
    }

    static Calls get() {
        return Bound.CALLS;
    }
}
