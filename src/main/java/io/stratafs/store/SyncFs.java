package io.stratafs.store;

import static io.stratafs.os.Libc.O_CLOEXEC;
import static io.stratafs.os.Libc.O_DIRECTORY;
import static io.stratafs.os.Libc.O_RDONLY;

import io.stratafs.os.Libc;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Linux {@code syncfs(2)} on the filesystem holding a directory: one call makes every file's data and
 * every directory entry written there durable, where fsyncing N files and their directories costs N
 * journal commits and disk cache flushes (on a virtual disk each flush is a round trip to the host).
 * Java has no such call, so it goes through libc ({@link Libc}); where libc has none (not Linux),
 * {@link #sync} returns false and the caller fsyncs file by file.
 */
final class SyncFs {
    private static final boolean LINUX = System.getProperty("os.name", "").startsWith("Linux");

    private SyncFs() {
    }

    /**
     * Makes everything written on {@code dir}'s filesystem durable; false when this system has no
     * {@code syncfs}. A failure (the directory is gone, the disk reports a write error) is an
     * IOException naming the directory and the cause.
     */
    static boolean sync(Path dir) throws IOException {
        if (!LINUX) {
            return false;
        }
        Libc.Calls c = Libc.get();
        int fd = c.open(Libc.cString(dir.toString()), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open " + dir + " to sync its filesystem: " + c.strerror(Libc.errno()));
        }
        try {
            if (c.syncfs(fd) != 0) {
                throw new IOException("syncing the filesystem of " + dir + " failed: " + c.strerror(Libc.errno()));
            }
        } finally {
            c.close(fd);
        }
        return true;
    }
}
