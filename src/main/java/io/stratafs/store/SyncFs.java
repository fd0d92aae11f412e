package io.stratafs.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;

/**
 * Linux {@code syncfs(2)} on the filesystem holding a directory: one call makes every file's data and
 * every directory entry written there durable, where fsyncing N files and their directories costs N
 * journal commits and disk cache flushes (on a virtual disk each flush is a round trip to the host).
 * Java has no such call, so it goes through libc with jnr-ffi; where libc has none (not Linux),
 * {@link #sync} returns false and the caller fsyncs file by file.
 */
final class SyncFs {
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;
    private static final LibC LIBC = load();

    private SyncFs() {
    }

    /** Public only because jnr-ffi implements it in a generated class. */
    public interface LibC {
        int open(@In byte[] path, int flags);

        int syncfs(int fd);

        int close(int fd);

        String strerror(int errno);
    }

    private static LibC load() {
        try {
            LibC c = LibraryLoader.create(LibC.class).failImmediately().load("c");
            return System.getProperty("os.name", "").startsWith("Linux") ? c : null;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null;
        }
    }

    /**
     * Makes everything written on {@code dir}'s filesystem durable; false when this system has no
     * {@code syncfs}. A failure (the directory is gone, the disk reports a write error) is an
     * IOException naming the directory and the cause.
     */
    static boolean sync(Path dir) throws IOException {
        if (LIBC == null) {
            return false;
        }
        byte[] path = (dir.toString() + "\0").getBytes(StandardCharsets.UTF_8);
        int fd = LIBC.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + dir + " to sync its filesystem: " + lastError());
        }
        try {
            if (LIBC.syncfs(fd) != 0) {
                throw new IOException("syncing the filesystem of " + dir + " failed: " + lastError());
            }
        } finally {
            LIBC.close(fd);
        }
        return true;
    }

    private static String lastError() {
        return LIBC.strerror(Runtime.getRuntime(LIBC).getLastError());
    }
}
