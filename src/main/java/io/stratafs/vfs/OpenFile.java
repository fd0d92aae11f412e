package io.stratafs.vfs;

import java.util.TreeMap;

/**
 * The in-memory state of a regular file that has at least one open handle: blocks written but not
 * yet committed to LMDB, and the size and times those writes imply. Guarded by its own monitor.
 */
final class OpenFile {
    /** A block being written: {@code data[0..length)} is its content. */
    static final class DirtyBlock {
        byte[] data;
        int length;

        DirtyBlock(byte[] data, int length) {
            this.data = data;
            this.length = length;
        }
    }

    final long ino;
    final TreeMap<Long, DirtyBlock> dirty = new TreeMap<>();
    int handles;
    long dirtyBytes;
    /** Size including uncommitted writes; -1 until known. */
    long size = -1;
    /** Uncommitted modification time, 0 when none. */
    long pendingMtimeNs;
    boolean accessed;

    OpenFile(long ino) {
        this.ino = ino;
    }

    boolean hasPendingChanges() {
        return !dirty.isEmpty() || pendingMtimeNs != 0;
    }
}
