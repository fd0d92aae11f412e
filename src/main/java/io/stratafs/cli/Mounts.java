package io.stratafs.cli;

import io.stratafs.os.Libc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/** What the kernel says about FUSE mounts (/proc/mounts), and the fusermount calls that change it. */
final class Mounts {
    private Mounts() {
    }

    /** The type /proc/mounts gives a StrataFS mount (FUSE with subtype=stratafs). */
    static final String STRATAFS_TYPE = "fuse.stratafs";

    /** Whether a FUSE filesystem is mounted at this path. */
    static boolean isFuseMounted(Path mountpoint) {
        String type = typeAt(mountpoint);
        return type != null && type.startsWith("fuse");
    }

    /** The type of the filesystem mounted at exactly this path (the topmost, if several are stacked), or null. */
    static String typeAt(Path mountpoint) {
        String[] m = entryAt(mountpoint);
        return m == null ? null : m[2];
    }

    /** What is mounted at exactly this path, for a message: "TYPE from SOURCE", or null. */
    static String describeAt(Path mountpoint) {
        String[] m = entryAt(mountpoint);
        return m == null ? null : m[2] + " from " + unescape(m[0]);
    }

    private static String[] entryAt(Path mountpoint) {
        String want = mountpoint.toAbsolutePath().normalize().toString();
        String[] found = null;
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 2 && unescape(f[1]).equals(want)) {
                    found = f;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return found;
    }

    static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    /**
     * A FUSE mount whose process died answers every call that reaches it with ENOTCONN. A stat may
     * not reach it (the kernel answers from attributes it cached, the root's included), so this asks
     * {@link #statvfs}, which always does.
     */
    static boolean isStale(Path mountpoint) {
        return isFuseMounted(mountpoint) && statvfs(mountpoint) != 0;
    }

    /** {@code struct statvfs} on LP64 glibc. */
    private static final int STATVFS_BYTES = 112;

    /**
     * {@code statvfs(2)} of {@code path}: 0, or the errno it failed with (ENOTCONN for a mount whose
     * daemon died). For a mount whose daemon hangs it does not return, like any call into it.
     */
    static int statvfs(Path path) {
        Libc.Calls c = Libc.get();
        return c.statvfs(Libc.cString(path.toAbsolutePath().toString()), new byte[STATVFS_BYTES]) == 0 ? 0 : Math.max(1, Libc.errno());
    }

    /** Runs fusermount -u (lazily when asked); returns its error text, or null on success. */
    static String fusermountU(Path mountpoint, boolean lazy) {
        String tool = Files.isExecutable(Paths.get("/usr/bin/fusermount")) || Files.isExecutable(Paths.get("/bin/fusermount"))
                ? "fusermount" : "fusermount3";
        List<String> cmd = lazy ? List.of(tool, "-u", "-z", mountpoint.toString()) : List.of(tool, "-u", mountpoint.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? null : (out.isEmpty() ? tool + " failed" : out);
        } catch (IOException e) {
            return "cannot run " + tool + ": " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
