package io.stratafs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * A file or directory inside a mounted StrataFS volume: the mountpoint (which names the control
 * socket) and the path below it as the daemon sees it ({@code /} for the root).
 */
record MountedPath(Path given, Path mountpoint, String inner) {

    /** Finds the StrataFS mount holding {@code path}; fails with a sentence when it does not exist or is elsewhere. */
    static MountedPath locate(Path path) {
        return locate(path, true);
    }

    /** As {@link #locate(Path)}; when {@code required} is false a path outside every mount gives null. */
    static MountedPath locate(Path path, boolean required) {
        Path abs = path.toAbsolutePath().normalize();
        if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(abs + ": no such file or directory");
        }
        Path real;
        try {
            real = abs.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException(abs + ": cannot resolve it (" + e.getMessage() + ")");
        }
        Path mountpoint = containingMount(real);
        if (mountpoint == null) {
            if (!required) {
                return null;
            }
            throw new IllegalArgumentException(abs + " is not inside a mounted StrataFS volume");
        }
        String inner = "/" + mountpoint.relativize(real);
        return new MountedPath(abs, mountpoint, inner.equals("/") ? "/" : inner);
    }

    /** The deepest StrataFS mount (fsname stratafs:…, type fuse.stratafs) that holds {@code real}, or null. */
    static Path containingMount(Path real) {
        Path best = null;
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                boolean ours = f.length > 2 && (f[2].equals("fuse.stratafs") || (f[2].startsWith("fuse") && f[0].startsWith("stratafs")));
                if (!ours) {
                    continue;
                }
                Path m = Paths.get(Mounts.unescape(f[1]));
                if (real.startsWith(m) && (best == null || m.getNameCount() > best.getNameCount())) {
                    best = m;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/mounts: " + e.getMessage(), e);
        }
        return best;
    }

    /** How the daemon's path {@code p} (below the mount root) looks to the user. */
    String shown(String p) {
        return p.equals("/") ? mountpoint.toString() : mountpoint + p;
    }
}
