package io.stratafs.vfs;

import java.util.regex.Pattern;

/**
 * The names under which libfuse 2's path API kept a file that was unlinked, or renamed over, while
 * open ({@code .fuse_hidden} plus 16 hex digits). StrataFS now serves the kernel through the
 * low-level API, which never makes such names; the site bridge still refuses to log them, which
 * keeps a volume that an older version mounted from carrying one into the replicas.
 */
public final class HiddenNames {
    private static final Pattern PATTERN = Pattern.compile("\\.fuse_hidden[0-9a-f]{16}");

    private HiddenNames() {
    }

    public static boolean isHidden(String name) {
        return name.length() == 28 && PATTERN.matcher(name).matches();
    }
}
