package io.stratafs.fuse;

import io.stratafs.fuse.lowlevel.LowLevelFileSystem;
import io.stratafs.vfs.Errno;
import io.stratafs.vfs.FsException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The inodes the kernel holds and the names it got them by, so that a call naming an inode can be
 * turned into the path the VFS and the site log speak. The kernel holds only what an entry reply
 * (lookup, mkdir, mknod, symlink, link, create) gave it, counted in lookups until {@code forget}
 * brings the count to 0. A directory has one name; a file has every name the kernel was given that
 * was not unlinked or renamed away since, and a file whose names are all gone while the kernel still
 * holds it (unlinked while open) has none: {@link #path} is null for it.
 *
 * <p>One monitor guards both maps; every method is short and does no I/O.
 */
final class InodeNames {
    /** hashCode and equals written out: a record's generated ones go through a method handle per call. */
    private record Name(long parent, String name) {
        @Override
        public int hashCode() {
            return Long.hashCode(parent) * 31 + name.hashCode();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Name n && n.parent == parent && n.name.equals(name);
        }
    }

    private static final class Node {
        long lookups;
        final boolean dir;
        final Set<Name> names = new LinkedHashSet<>(2);

        Node(boolean dir) {
            this.dir = dir;
        }
    }

    /** Deeper than any path a kernel can hold (PATH_MAX 4096 allows 2048 levels of one-byte names). */
    private static final int MAX_DEPTH = 4096;

    private final Map<Long, Node> nodes = new HashMap<>();
    private final Map<Name, Long> byName = new HashMap<>();

    /** An entry reply is about to give the kernel {@code ino} as {@code name} in {@code parent}: one lookup more. */
    synchronized void entered(long parent, String name, long ino, boolean dir) {
        Node n = nodes.computeIfAbsent(ino, k -> new Node(dir));
        n.lookups++;
        Name key = new Name(parent, name);
        if (n.dir) {
            for (Name old : n.names) {
                byName.remove(old, ino);
            }
            n.names.clear();
        }
        n.names.add(key);
        Long before = byName.put(key, ino);
        if (before != null && before != ino) {
            Node other = nodes.get(before);
            if (other != null) {
                other.names.remove(key);
            }
        }
    }

    /** The kernel dropped {@code count} lookups of {@code ino}; at 0 it no longer knows the inode. */
    synchronized void forget(long ino, long count) {
        Node n = nodes.get(ino);
        if (n == null) {
            return;
        }
        n.lookups -= count;
        if (n.lookups <= 0) {
            nodes.remove(ino);
            for (Name name : n.names) {
                byName.remove(name, ino);
            }
        }
    }

    /** How many inodes the kernel holds (for tests and status). */
    synchronized int size() {
        return nodes.size();
    }

    /**
     * The path of {@code ino} by one of its names; null when the kernel holds it without a name
     * (unlinked while open). ENOENT when no name leads to the root any more (renamed away by
     * another site): the kernel looks it up again.
     */
    synchronized String path(long ino) throws FsException {
        if (ino == LowLevelFileSystem.ROOT) {
            return "/";
        }
        Node n = nodes.get(ino);
        if (n != null && n.names.isEmpty()) {
            return null;
        }
        String p = pathOf(ino, 0);
        if (p == null) {
            throw new FsException(Errno.ENOENT, "inode " + ino + " has no known name; it was renamed or removed meanwhile");
        }
        return p;
    }

    /** The path of {@code name} in directory {@code parent}. */
    synchronized String child(long parent, String name) throws FsException {
        String dir = parent == LowLevelFileSystem.ROOT ? "" : pathOf(parent, 0);
        if (dir == null) {
            throw new FsException(Errno.ENOENT, "directory inode " + parent + " has no known name; it was renamed or removed meanwhile");
        }
        return dir + "/" + name;
    }

    private String pathOf(long ino, int depth) {
        if (ino == LowLevelFileSystem.ROOT) {
            return "";
        }
        Node n = nodes.get(ino);
        if (n == null || depth > MAX_DEPTH) {
            return null;
        }
        for (Name name : n.names) {
            String dir = pathOf(name.parent(), depth + 1);
            if (dir != null) {
                return dir + "/" + name.name();
            }
        }
        return null;
    }

    /** The parent of a directory the kernel holds, or 0. */
    synchronized long parentOf(long dir) {
        Node n = nodes.get(dir);
        return n == null || n.names.isEmpty() ? 0 : n.names.iterator().next().parent();
    }

    /** The name {@code name} in {@code parent} is gone (unlink, rmdir, a change from another site); returns what it named, or 0. */
    synchronized long removed(long parent, String name) {
        Name key = new Name(parent, name);
        Long ino = byName.remove(key);
        if (ino == null) {
            return 0;
        }
        Node n = nodes.get(ino);
        if (n != null) {
            n.names.remove(key);
        }
        return ino;
    }

    /** A rename: what the new name named loses it, and the moved inode is known by the new name instead of the old. */
    synchronized void renamed(long parent, String name, long newParent, String newName) {
        removed(newParent, newName);
        Name from = new Name(parent, name);
        Long ino = byName.remove(from);
        if (ino == null) {
            return;
        }
        Node n = nodes.get(ino);
        if (n == null) {
            return;
        }
        n.names.remove(from);
        Name to = new Name(newParent, newName);
        n.names.add(to);
        byName.put(to, ino);
    }
}
