package io.stratafs.meta;

import java.nio.file.Path;

/**
 * Where {@link LmdbKv} tells what it has made durable: after a write-ahead file reached the disk
 * (fdatasync, and the directory fsync'ed so the file exists) and after an LMDB commit (which syncs).
 * Production passes {@link #NONE}; the power-loss tests record these points to rebuild the disk as it
 * could be after a power cut: the LMDB file as of its last commit, each write-ahead file cut to its
 * last synced length plus any torn bytes.
 */
interface DiskSeam {
    DiskSeam NONE = new DiskSeam() {
    };

    /** {@code file} is on stable storage up to {@code length} bytes. */
    default void walSynced(Path file, long length) {
    }

    /**
     * The committer found pending changes due and is about to take them as a group; called on the
     * committer thread. A test holds it here to see what writers do while nothing is taken.
     */
    default void beforeGroupTaken() throws InterruptedException {
    }

    /** A writer found two groups' worth of changes pending and waits for room; must not block. */
    default void writerWaitsForRoom() {
    }

    /** An LMDB write transaction committed and synced; called while no other commit can run. */
    default void lmdbCommitted() {
    }
}
