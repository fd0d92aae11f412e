package io.stratafs.vfs;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The names under which libfuse keeps a file that is unlinked, or renamed over, while it is open.
 *
 * <p>libfuse 2's path API renames such a file to {@code .fuse_hidden} plus 16 hex digits and goes on
 * calling us with that path (the kernel's fstat of the open descriptor arrives as a path getattr),
 * then unlinks it after the last release. (With {@code hard_remove} it would instead fail those
 * calls with ENOENT, which breaks {@code cat} of an unlinked file.) We remove the real name at once
 * and answer the hidden one from memory: it never shows in a listing, never keeps a directory from
 * being removed, and the file's link count reads 0, as POSIX says. Nothing here is persistent; an
 * inode left without names by a crash is removed at the next mount.
 */
public final class HiddenNames {
    private static final Pattern PATTERN = Pattern.compile("\\.fuse_hidden[0-9a-f]{16}");

    private record Key(long parent, String name) {
    }

    private final Map<Key, Long> names = new ConcurrentHashMap<>();

    public static boolean isHidden(String name) {
        return name.length() == 28 && PATTERN.matcher(name).matches();
    }

    /** The inode hidden as {@code name} in {@code parent}, or 0. */
    long lookup(long parent, String name) {
        if (names.isEmpty()) {
            return 0;
        }
        Long ino = names.get(new Key(parent, name));
        return ino == null ? 0 : ino;
    }

    void add(long parent, String name, long ino) {
        names.put(new Key(parent, name), ino);
    }

    /** Drops {@code name} and returns the inode it stood for, or 0. */
    long remove(long parent, String name) {
        Long ino = names.remove(new Key(parent, name));
        return ino == null ? 0 : ino;
    }

    /** Drops every hidden name of an inode whose last handle is gone. */
    void forget(long ino) {
        if (!names.isEmpty()) {
            names.values().removeIf(v -> v == ino);
        }
    }
}
