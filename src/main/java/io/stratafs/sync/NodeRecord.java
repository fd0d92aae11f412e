package io.stratafs.sync;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The stored state of one node (file, directory, symlink, device, fifo, socket). Type, rdev and
 * symlink target are fixed at creation; permissions, owner, group and times are last-writer-wins
 * registers; each xattr name is a register whose null value means removed; {@code versions} are the
 * content versions no other known version dominates, in OpId order (empty unless a regular file);
 * {@code touched} is the largest stamp of any operation on the node or its names (its ctime).
 */
public record NodeRecord(OpId id, int type, long rdev, byte[] symlinkTarget,
                         Register<Integer> perm, Register<Integer> uid, Register<Integer> gid,
                         Register<Long> atimeNs, Register<Long> mtimeNs,
                         SortedMap<String, Register<byte[]>> xattrs, List<Version> versions, OpId touched) {

    /** One version of a file's content: the write that made it, what it had seen, its blocks and its mtime. */
    public record Version(OpId id, VersionVector vv, Manifest content, long mtimeNs) {
    }

    public NodeRecord {
        xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
        versions = List.copyOf(versions);
    }

    public boolean isDirectory() {
        return type == Modes.S_IFDIR;
    }

    public boolean isRegular() {
        return type == Modes.S_IFREG;
    }

    public NodeRecord touch(OpId by) {
        return by.after(touched) ? with(perm, uid, gid, atimeNs, mtimeNs, xattrs, versions, by) : this;
    }

    public NodeRecord with(Register<Integer> perm, Register<Integer> uid, Register<Integer> gid,
                           Register<Long> atimeNs, Register<Long> mtimeNs,
                           SortedMap<String, Register<byte[]>> xattrs, List<Version> versions, OpId touched) {
        return new NodeRecord(id, type, rdev, symlinkTarget, perm, uid, gid, atimeNs, mtimeNs, xattrs, versions, touched);
    }
}
