package io.stratafs.vfs;

import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The in-memory state of a regular file that has at least one open handle: blocks being written,
 * full blocks on their way into LMDB, and the size and times those writes imply. Guarded by its own
 * monitor, except {@link #handles}.
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
    /** Full blocks handed to the background committer, readable here until they are in LMDB. */
    final TreeMap<Long, byte[]> committing = new TreeMap<>();
    /**
     * Background commits queued and not finished. More than {@link #committing} holds when one
     * block was filled again before its previous commit ran; each holds a block on the heap.
     */
    int queued;
    /** The last background commit of this file; commits of one file run one after another. */
    CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
    /** The last background commit failure; each handle reports it once at fsync or flush (errseq). */
    FsException commitError;
    /** How many background commits failed; a handle reports when it has seen fewer. */
    int commitErrors;
    /** Whether some handle has reported the last failure; a handle opened before that reports it too. */
    boolean commitErrorSeen;
    /** Open handles; changed only inside the open map's per-key compute, which orders open against release. */
    int handles;
    /**
     * A deletion's claim found this file open, so a transaction may have left the inode without a
     * name: its last release must check and free it. Like {@link #handles}, set and read only inside
     * the open map's per-key compute; false, the last release of a named file leaves LMDB alone.
     */
    boolean claimRefused;
    long dirtyBytes;
    /** Size including uncommitted writes; -1 until known. */
    long size = -1;
    /** Where the last read ended, to recognise sequential reading. */
    long lastReadEnd = -1;
    /** The highest block index read-ahead was started for. */
    long readAheadIndex = -1;
    /** Uncommitted modification time, 0 when none. */
    long pendingMtimeNs;

    OpenFile(long ino) {
        this.ino = ino;
    }

    boolean hasPendingChanges() {
        return !dirty.isEmpty() || !committing.isEmpty() || pendingMtimeNs != 0;
    }
}
