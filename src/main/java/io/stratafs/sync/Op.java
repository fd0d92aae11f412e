package io.stratafs.sync;

import java.util.Arrays;

/**
 * One logical change to the namespace, as a site's log records it and as every peer applies it.
 * Each operation carries what a merge needs to decide without asking its author: the identities it
 * acts on (never paths), and for removals what the remover had seen, so a concurrent change can
 * survive it. The operation's own {@link #id} is its stamp, its site, and (for operations that create
 * something) the identity of what it created.
 */
public sealed interface Op {
    OpId id();

    /**
     * A new file, directory, symlink, device, fifo or socket with its first name. The new node and
     * its first name are both identified by {@code id}. {@code mode} includes the file type bits;
     * {@code symlinkTarget} is null unless the node is a symlink.
     */
    record Create(OpId id, OpId parent, String name, int mode, int uid, int gid, long rdev, byte[] symlinkTarget)
            implements Op {
        @Override
        public boolean equals(Object o) {
            return o instanceof Create c && id.equals(c.id) && parent.equals(c.parent) && name.equals(c.name)
                    && mode == c.mode && uid == c.uid && gid == c.gid && rdev == c.rdev
                    && Arrays.equals(symlinkTarget, c.symlinkTarget);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }

    /** A further name (hard link) for an existing non-directory {@code node}; the name is identified by {@code id}. */
    record Link(OpId id, OpId node, OpId parent, String name) implements Op {
    }

    /**
     * Rename: the name {@code edge} moves to {@code parent}/{@code name}. When that name was taken at
     * the author's site, {@code replaced} is the name it replaced (removed as by {@link Remove}, with
     * {@code replacedSeen}); otherwise both are null.
     */
    record Move(OpId id, OpId edge, OpId parent, String name, OpId replaced, Seen replacedSeen) implements Op {
    }

    /** unlink or rmdir of the name {@code edge}, with what the author had seen of it. */
    record Remove(OpId id, OpId edge, Seen seen) implements Op {
    }

    /**
     * chmod, chown, utimens: each attribute named in {@code mask} is set, last writer by {@link OpId}
     * winning per attribute.
     */
    record SetAttr(OpId id, OpId node, int mask, int mode, int uid, int gid, long atimeNs, long mtimeNs) implements Op {
        public static final int MODE = 1;
        public static final int UID = 2;
        public static final int GID = 4;
        public static final int ATIME = 8;
        public static final int MTIME = 16;
    }

    /** setxattr ({@code value} non-null) or removexattr ({@code value} null) of one name, last writer winning. */
    record SetXattr(OpId id, OpId node, String name, byte[] value) implements Op {
        @Override
        public boolean equals(Object o) {
            return o instanceof SetXattr x && id.equals(x.id) && node.equals(x.node) && name.equals(x.name)
                    && Arrays.equals(value, x.value);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }
    }

    /**
     * A new version of a regular file's content (write, truncate), whole: {@code vv} says which
     * versions it replaces; a version it does not dominate survives beside it as a conflict copy.
     */
    record Write(OpId id, OpId node, VersionVector vv, Manifest content, long mtimeNs) implements Op {
    }

    /**
     * What a remover had seen of the name it removed: the operation that last placed the name
     * (its creation or last move), and for a file, the join of the content versions it held. A
     * move or write it had not seen makes the name survive the removal.
     */
    record Seen(OpId placement, VersionVector content) {
    }
}
