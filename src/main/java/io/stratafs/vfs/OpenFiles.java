package io.stratafs.vfs;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.cache.DirtyLimitException;
import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Namespace;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File contents through open handles: reads, writes into per-inode {@link OpenFile} buffers, and
 * commits of those buffers to LMDB as content-addressed blocks.
 *
 * <p>A block that a write completes is hashed and committed by a background thread while the
 * writer goes on (at most {@link #MAX_IN_FLIGHT} per file, commits of one file in order); flush,
 * fsync, release and truncate wait for them and commit the rest. A background commit that fails
 * keeps its block in memory to be committed again and is reported once to every handle at its
 * next fsync or flush (Linux's errseq rule for writeback errors). Access times are kept in memory
 * and written in batches (lazytime).
 *
 * <p>Open, release and deletion of one inode are atomic with respect to each other: the handle
 * count changes only inside the {@code open} map's per-key compute, and a transaction that deletes
 * an inode claims it there first (see {@link Deletions}); an open that finds a claim waits for that
 * transaction to end. Lock order: the {@code open} map's per-key compute (which takes no other
 * lock), an {@link OpenFile} monitor, then the LMDB writer lock, then the cache's monitor.
 */
final class OpenFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenFiles.class);
    private static final int MAX_IN_FLIGHT = 4;
    /** Blocks fetched ahead of a sequential reader when it starts... */
    private static final int READ_AHEAD_BLOCKS = 4;
    /**
     * ...and once it reads inside the window fetched for it: then the fetches overlap the reading
     * (8 GETs in flight at --download-concurrency 8) instead of the reader catching up with them.
     * The cache holds at most 48 MiB of blocks fetched ahead (BlockCache.READ_AHEAD_HELD_BYTES).
     */
    private static final int READ_AHEAD_MAX_BLOCKS = 8;
    /** The kernel's own read-ahead sends reads slightly out of order; within this distance it is still sequential. */
    private static final long SEQUENTIAL_SLACK = 1 << 20;
    /** A file's unfull uncommitted bytes above this are committed early, bounding memory per writer. */
    private static final long MAX_DIRTY_PER_FILE = 64L << 20;
    /** The default bound of what all open files together buffer: a quarter of the heap, at most 256 MiB. */
    private static final long MAX_BUFFERED = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 4);

    /**
     * A test seam at the points where concurrent calls on one inode interleave; every method is a
     * no-op in production.
     */
    interface Hooks {
        Hooks NONE = new Hooks() {
        };

        /** A release has counted the file's last handle down, before it checks whether the inode goes. */
        default void lastHandleCounted(long ino) {
        }

        /** An unlink or last release decided, inside its transaction, that the inode has no handle and goes. */
        default void deletionDecided(long ino) {
        }

        /** A deletion's claim found the inode open: it stays, and its last release frees it. */
        default void deletionRefused(long ino) {
        }

        /** An open found its inode being deleted by an unfinished transaction and waits for it. */
        default void openWaitsForDeletion(long ino) {
        }

        /** A getattr found the per-file state of an open file and is about to take its monitor. */
        default void beforeAttributes(long ino) {
        }

        /** A background commit of block {@code index} is about to run. */
        default void beforeBackgroundCommit(long ino, long index) throws FsException {
        }

        /** A caller holding the file's monitor is about to wait for its background commits. */
        default void waitsForCommits(long ino) {
        }
    }

    private final Kv kv;
    private final BlockCache cache;
    private final int blockSize;
    private final Clock clock;
    private final Map<Long, OpenFile> open = new ConcurrentHashMap<>();
    /** Inodes that an unfinished transaction is deleting, each with the latch its end opens. */
    private final Map<Long, CountDownLatch> deleting = new ConcurrentHashMap<>();
    private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
    private final Map<Long, Long> pendingAtime = new ConcurrentHashMap<>();
    private final AtomicLong nextHandle = new AtomicLong(1);
    /** The sum of every open file's {@link OpenFile#dirtyBytes}: uncommitted writes on the heap. */
    private final AtomicLong buffered = new AtomicLong();
    /** Above this, writers commit the files that buffer most until half of it is left. */
    volatile long maxBuffered = MAX_BUFFERED;
    volatile Hooks hooks = Hooks.NONE;
    /** Where committed content changes are marked for the site's log (see {@link NamespaceLog}). */
    volatile NamespaceLog log = NamespaceLog.NONE;
    private final VolumeMetrics metrics;
    private final ExecutorService committer = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "stratafs-commit");
        t.setDaemon(true);
        return t;
    });

    OpenFiles(Kv kv, BlockCache cache, int blockSize, Clock clock, VolumeMetrics metrics) {
        this.kv = kv;
        this.metrics = metrics;
        this.cache = cache;
        this.blockSize = blockSize;
        this.clock = clock;
    }

    /** Bytes written through open handles of the inode and not yet in LMDB (buffered or being committed). */
    long uncommittedBytes(long ino) {
        OpenFile of = open.get(ino);
        if (of == null) {
            return 0;
        }
        synchronized (of) {
            long n = 0;
            for (OpenFile.DirtyBlock d : of.dirty.values()) {
                n += d.length;
            }
            for (byte[] b : of.committing.values()) {
                n += b.length;
            }
            return n;
        }
    }

    boolean isOpen(long ino) {
        return open.containsKey(ino);
    }

    /**
     * The attributes of an inode with what open handles wrote but did not commit yet, and batched
     * access times. For an open file, LMDB is read under the file's monitor: a commit that cleared
     * the pending state has then reached LMDB, so a concurrent close never makes the size go back.
     */
    Inode attributes(long ino) throws FsException {
        OpenFile of = open.get(ino);
        Inode inode;
        if (of == null) {
            inode = Txns.read(kv, txn -> Txns.inodeOrFail(txn, ino));
        } else {
            hooks.beforeAttributes(ino);
            synchronized (of) {
                inode = withPendingWrites(of, Txns.read(kv, txn -> Txns.inodeOrFail(txn, ino)));
            }
        }
        Long atime = pendingAtime.get(ino);
        if (atime != null && atime > inode.atimeNs()) {
            inode = inode.withTimes(atime, inode.mtimeNs(), inode.ctimeNs());
        }
        return inode;
    }

    private static Inode withPendingWrites(OpenFile of, Inode inode) {
        if (!of.hasPendingChanges()) {
            return inode;
        }
        long size = of.size >= 0 ? of.size : inode.size();
        long mtime = of.pendingMtimeNs != 0 ? of.pendingMtimeNs : inode.mtimeNs();
        long ctime = Math.max(inode.ctimeNs(), mtime);
        return new Inode(inode.ino(), inode.mode(), inode.uid(), inode.gid(), inode.nlink(), size,
                inode.atimeNs(), mtime, ctime, inode.rdev());
    }

    long open(long ino, int flags) throws FsException {
        OpenFile of = open.compute(ino, (k, existing) -> {
            OpenFile f = existing == null ? new OpenFile(k) : existing;
            f.handles++;
            return f;
        });
        long fh = nextHandle.getAndIncrement();
        Handle handle = new Handle(ino, flags, of);
        synchronized (of) {
            handle.seenCommitErrors = of.commitErrorSeen ? of.commitErrors : 0;
        }
        handles.put(fh, handle);
        try {
            awaitDeletion(ino);
            Inode inode = Txns.read(kv, txn -> Txns.inodeOrFail(txn, ino));
            if ((flags & Handle.O_TRUNC) != 0 && inode.isRegular() && (flags & Handle.O_ACCMODE) != 0 && inode.size() > 0) {
                truncate(ino, 0);
            }
        } catch (FsException e) {
            release(fh);
            throw e;
        }
        return fh;
    }

    /**
     * Waits while a transaction that claimed the inode for deletion (before this open counted its
     * handle) is unfinished, so that the inode read next is either gone (ENOENT) or kept for good.
     */
    private void awaitDeletion(long ino) throws FsException {
        for (CountDownLatch done; (done = deleting.get(ino)) != null; ) {
            hooks.openWaitsForDeletion(ino);
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new FsException(Errno.EIO, "interrupted while waiting for an unlink of the same file");
            }
        }
    }

    /**
     * The inodes one namespace transaction deletes for lack of names and handles. Claiming happens
     * inside the transaction, atomically with the open map; the claims end when this is closed,
     * after the transaction committed or aborted.
     */
    final class Deletions implements Vfs.Claims {
        private final List<Long> claimed = new ArrayList<>(1);
        private final CountDownLatch done = new CountDownLatch(1);

        /** Claims {@code ino} for deletion; false when it has an open handle and must stay. */
        @Override
        public boolean claim(long ino) {
            boolean[] ok = {false};
            open.compute(ino, (k, f) -> {
                if (f == null) {
                    deleting.put(k, done);
                    ok[0] = true;
                } else {
                    f.claimRefused = true;
                }
                return f;
            });
            if (ok[0]) {
                claimed.add(ino);
                hooks.deletionDecided(ino);
            } else {
                hooks.deletionRefused(ino);
            }
            return ok[0];
        }

        @Override
        public void close() {
            for (long ino : claimed) {
                deleting.remove(ino, done);
            }
            done.countDown();
        }
    }

    Deletions deletions() {
        return new Deletions();
    }

    private Handle handle(long fh) throws FsException {
        Handle h = handles.get(fh);
        if (h == null) {
            throw new FsException(Errno.EBADF, "bad file handle " + fh);
        }
        return h;
    }

    long inoOf(long fh) throws FsException {
        return handle(fh).ino();
    }

    // ---- read ------------------------------------------------------------------------------

    int read(long fh, long offset, byte[] dst, int length) throws FsException {
        Handle h = handle(fh);
        OpenFile of = h.file();
        List<long[]> clean = new ArrayList<>();
        int total;
        long readAheadFrom = -1;
        int readAheadCount = 0;
        synchronized (of) {
            long size = knownSize(of);
            if (offset >= size) {
                return 0;
            }
            total = (int) Math.min(length, size - offset);
            long pos = offset;
            int done = 0;
            while (done < total) {
                long index = pos / blockSize;
                int inBlock = (int) (pos % blockSize);
                int n = Math.min(total - done, blockSize - inBlock);
                OpenFile.DirtyBlock db = of.dirty.get(index);
                byte[] full = db == null ? of.committing.get(index) : null;
                if (db != null) {
                    copyOut(db.data, db.length, inBlock, dst, done, n);
                } else if (full != null) {
                    copyOut(full, full.length, inBlock, dst, done, n);
                } else {
                    clean.add(new long[] {index, inBlock, done, n});
                }
                pos += n;
                done += n;
            }
            long lastIndex = (offset + total - 1) / blockSize;
            int window = of.readAheadIndex >= lastIndex ? READ_AHEAD_MAX_BLOCKS : READ_AHEAD_BLOCKS;
            if (Math.abs(offset - of.lastReadEnd) <= SEQUENTIAL_SLACK && lastIndex > of.readAheadIndex - window / 2) {
                readAheadFrom = Math.max(lastIndex + 1, of.readAheadIndex + 1);
                readAheadCount = (int) (lastIndex + window + 1 - readAheadFrom);
                of.readAheadIndex = lastIndex + window;
            }
            of.lastReadEnd = Math.max(of.lastReadEnd, offset + total);
        }
        if (readAheadCount > 0) {
            readAhead(h.ino(), readAheadFrom, readAheadCount);
        }
        for (long[] piece : clean) {
            readCommitted(h.ino(), piece[0], (int) piece[1], dst, (int) piece[2], (int) piece[3]);
        }
        pendingAtime.merge(h.ino(), clock.nowNs(), Math::max);
        return total;
    }

    private void readAhead(long ino, long fromIndex, int count) {
        List<BlockRef> refs = new ArrayList<>(count);
        kv.read(txn -> {
            Namespace.blocks(txn, ino, fromIndex, fromIndex + count, (index, ref) -> refs.add(ref));
            return null;
        });
        for (BlockRef ref : refs) {
            cache.prefetch(ref);
        }
    }

    private static void copyOut(byte[] src, int srcLen, int from, byte[] dst, int dstOff, int n) {
        int avail = Math.max(0, Math.min(n, srcLen - from));
        if (avail > 0) {
            System.arraycopy(src, from, dst, dstOff, avail);
        }
        Arrays.fill(dst, dstOff + avail, dstOff + n, (byte) 0);
    }

    /** Reads a piece of a committed block without copying the whole block (a hole reads as zeros). */
    private void readCommitted(long ino, long index, int inBlock, byte[] dst, int dstOff, int n) throws FsException {
        BlockRef ref = kv.read(txn -> Namespace.block(txn, ino, index));
        if (ref == null) {
            Arrays.fill(dst, dstOff, dstOff + n, (byte) 0);
            return;
        }
        try {
            cache.read(ref, inBlock, dst, dstOff, n);
        } catch (BlockUnavailableException e) {
            throw ErrnoTable.toFsException(e);
        }
    }

    /** The committed content of a block; empty for a hole. */
    private byte[] committedBlock(long ino, long index) throws FsException {
        BlockRef ref = kv.read(txn -> Namespace.block(txn, ino, index));
        if (ref == null) {
            return new byte[0];
        }
        try {
            return cache.get(ref);
        } catch (BlockUnavailableException e) {
            throw ErrnoTable.toFsException(e);
        }
    }

    private long knownSize(OpenFile of) throws FsException {
        if (of.size < 0) {
            of.size = Txns.read(kv, txn -> Txns.inodeOrFail(txn, of.ino)).size();
        }
        return of.size;
    }

    // ---- write -----------------------------------------------------------------------------

    int write(long fh, long offset, byte[] src, int length) throws FsException {
        Handle h = handle(fh);
        OpenFile of = h.file();
        synchronized (of) {
            long pos = h.append() ? knownSize(of) : offset;
            long end = pos + length;
            int done = 0;
            boolean filled = false;
            while (done < length) {
                long index = pos / blockSize;
                int inBlock = (int) (pos % blockSize);
                int n = Math.min(length - done, blockSize - inBlock);
                OpenFile.DirtyBlock db = dirtyBlock(of, index, inBlock + n);
                System.arraycopy(src, done, db.data, inBlock, n);
                if (inBlock + n > db.length) {
                    addDirty(of, inBlock + n - db.length);
                    db.length = inBlock + n;
                }
                filled |= db.length == blockSize;
                pos += n;
                done += n;
            }
            of.size = Math.max(knownSize(of), end);
            of.pendingMtimeNs = clock.nowNs();
            if (filled) {
                commitFullInBackground(of);
            }
            if (of.dirtyBytes > MAX_DIRTY_PER_FILE) {
                commitAll(of);
            }
        }
        if (buffered.get() > maxBuffered) {
            commitLargest();
        }
        return length;
    }

    /** Uncommitted bytes that all open files hold. */
    long bufferedBytes() {
        return buffered.get();
    }

    private void addDirty(OpenFile of, long delta) {
        of.dirtyBytes += delta;
        buffered.addAndGet(delta);
    }

    /**
     * Commits the open files that buffer most until half the bound is left. Runs holding no
     * monitor, each commit under its own file's, so writers of different files never wait for each
     * other's locks in an order that could deadlock; sizes read without the monitor only rank them.
     */
    private void commitLargest() throws FsException {
        List<OpenFile> byDirt = new ArrayList<>(open.values());
        byDirt.sort((a, b) -> Long.compare(b.dirtyBytes, a.dirtyBytes));
        for (OpenFile of : byDirt) {
            if (buffered.get() <= maxBuffered / 2) {
                return;
            }
            synchronized (of) {
                commitAll(of);
            }
        }
    }

    /** Reports a background commit failure this handle has not been told of yet (errseq). Holds the monitor. */
    private static void reportCommitError(Handle h) throws FsException {
        OpenFile of = h.file();
        if (h.seenCommitErrors != of.commitErrors) {
            h.seenCommitErrors = of.commitErrors;
            of.commitErrorSeen = true;
            FsException e = of.commitError;
            throw new FsException(e.errno(), e.getMessage() + " (an earlier background commit of this file)", e);
        }
    }

    /** The dirty buffer of a block, loaded from the committed block when it has one, grown to {@code need}. */
    private OpenFile.DirtyBlock dirtyBlock(OpenFile of, long index, int need) throws FsException {
        OpenFile.DirtyBlock db = of.dirty.get(index);
        if (db == null) {
            byte[] base = of.committing.get(index);
            if (base == null) {
                base = committedBlock(of.ino, index);
            }
            int committedLen = (int) Math.max(0, Math.min(base.length, knownSize(of) - index * blockSize));
            db = new OpenFile.DirtyBlock(Arrays.copyOf(base, Math.max(committedLen, Math.min(blockSize, need))), committedLen);
            of.dirty.put(index, db);
            addDirty(of, committedLen);
        }
        if (db.data.length < need) {
            int cap = Math.max(db.data.length, 4096);
            while (cap < need) {
                cap = Math.min(blockSize, cap * 2);
            }
            db.data = Arrays.copyOf(db.data, Math.max(cap, need));
        }
        return db;
    }

    /** Hands every full dirty block to the background committer; waits while too many are in flight. */
    private void commitFullInBackground(OpenFile of) throws FsException {
        List<Long> full = new ArrayList<>();
        for (Map.Entry<Long, OpenFile.DirtyBlock> e : of.dirty.entrySet()) {
            if (e.getValue().length == blockSize) {
                full.add(e.getKey());
            }
        }
        for (long index : full) {
            while (of.queued >= MAX_IN_FLIGHT) {
                awaitCommits(of);
            }
            OpenFile.DirtyBlock db = of.dirty.remove(index);
            addDirty(of, -db.length);
            byte[] data = db.data;
            of.committing.put(index, data);
            of.queued++;
            long size = of.size;
            long mtime = of.pendingMtimeNs;
            // handle, not thenRun: a stage that failed must not skip the commits queued after it
            of.tail = of.tail.handleAsync((ignored, failed) -> {
                commitInBackground(of, index, data, size, mtime);
                return null;
            }, committer);
        }
    }

    private void commitInBackground(OpenFile of, long index, byte[] data, long size, long mtime) {
        FsException failure = null;
        try {
            hooks.beforeBackgroundCommit(of.ino, index);
            commitBlocks(of.ino, List.of(index), List.of(data), size, mtime);
        } catch (Throwable t) {
            // An Error too: whatever happens, the block leaves `committing` below, or flush and umount wait forever.
            failure = ErrnoTable.toFsException(t);
            metrics.error(ErrorKind.COMMIT_FAILED);
            LOG.error("committing block {} of inode {} failed; it stays in memory, is committed again at the next "
                    + "flush or fsync, and fsync and close report the failure: {}", index, of.ino, failure.getMessage(),
                    ErrnoTable.unexpected(t) ? t : null);
        }
        synchronized (of) {
            of.committing.remove(index, data);
            of.queued--;
            if (failure != null) {
                keepFailedBlock(of, index, data, mtime);
                of.commitError = failure;
                of.commitErrors++;
                of.commitErrorSeen = false;
            }
            of.notifyAll();
        }
    }

    /** Puts a block whose commit failed back among the dirty ones, unless newer writes to it are already queued. */
    private void keepFailedBlock(OpenFile of, long index, byte[] data, long mtime) {
        if (of.dirty.containsKey(index) || of.committing.containsKey(index)) {
            return;
        }
        of.dirty.put(index, new OpenFile.DirtyBlock(data, data.length));
        addDirty(of, data.length);
        if (of.pendingMtimeNs == 0) {
            of.pendingMtimeNs = mtime;
        }
    }

    /** Waits (releasing the file's monitor) until a background commit of this file finishes. */
    private void awaitCommits(OpenFile of) throws FsException {
        hooks.waitsForCommits(of.ino);
        try {
            of.wait(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for a block commit");
        }
    }

    /** Waits for background commits, then commits every remaining change of the file. Holds the monitor. */
    private void commitAll(OpenFile of) throws FsException {
        while (of.queued > 0) {
            awaitCommits(of);
        }
        if (!of.hasPendingChanges()) {
            return;
        }
        List<Long> indexes = new ArrayList<>(of.dirty.keySet());
        List<byte[]> datas = new ArrayList<>(indexes.size());
        for (long index : indexes) {
            OpenFile.DirtyBlock db = of.dirty.get(index);
            datas.add(db.data.length == db.length ? db.data : Arrays.copyOf(db.data, db.length));
        }
        commitBlocks(of.ino, indexes, datas, of.size, of.pendingMtimeNs);
        of.dirty.clear();
        addDirty(of, -of.dirtyBytes);
        of.pendingMtimeNs = 0;
    }

    /**
     * One transaction: the blocks (staged dirty in the cache), their block-map entries, size and
     * mtime. The room it reserves is capped at the whole dirty limit: a commit larger than the
     * limit (random writes over many blocks into a small cache) waits until nothing else is dirty
     * and then overshoots the limit by itself alone, keeping the commit atomic; a block that alone
     * exceeds the limit can never fit (ENOSPC).
     */
    private void commitBlocks(long ino, List<Long> indexes, List<byte[]> datas, long size, long mtime) throws FsException {
        List<BlockRef> refs = new ArrayList<>(datas.size());
        long total = 0;
        long largest = 0;
        for (byte[] data : datas) {
            refs.add(new BlockRef(Sha256.of(data), data.length));
            total += cache.footprint(data.length);
            largest = Math.max(largest, cache.footprint(data.length));
        }
        long reserved = Math.max(largest, Math.min(total, cache.dirtyLimitBytes()));
        reserveDirty(reserved);
        try {
            boolean[] added = new boolean[indexes.size()];
            Txns.write(kv, txn -> {
                for (int i = 0; i < indexes.size(); i++) {
                    added[i] = cache.stageDirty(txn, refs.get(i), datas.get(i));
                    Namespace.putBlock(txn, ino, indexes.get(i), refs.get(i));
                }
                Inode inode = Txns.inodeOrFail(txn, ino);
                log.contentChanged(txn, ino);
                long newSize = size >= 0 ? size : inode.size();
                if (newSize != inode.size() || mtime != 0) {
                    long m = mtime != 0 ? mtime : inode.mtimeNs();
                    Namespace.putInode(txn, new Inode(inode.ino(), inode.mode(), inode.uid(), inode.gid(), inode.nlink(),
                            newSize, inode.atimeNs(), m, Math.max(m, inode.ctimeNs()), inode.rdev()));
                }
                return null;
            });
            for (int i = 0; i < indexes.size(); i++) {
                cache.committed(refs.get(i), datas.get(i), added[i]);
            }
        } finally {
            cache.releaseDirty(reserved);
        }
    }

    /** Waits for room under the dirty limit (see {@link BlockCache#reserveDirty}); ENOSPC when it can never come. */
    private void reserveDirty(long bytes) throws FsException {
        try {
            cache.reserveDirty(bytes);
        } catch (DirtyLimitException e) {
            throw ErrnoTable.toFsException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FsException(Errno.EIO, "interrupted while waiting for uploads");
        }
    }

    /** Commits every uncommitted change of an inode to LMDB (on flush, fsync, release and before metadata changes). */
    void commit(long ino) throws FsException {
        OpenFile of = open.get(ino);
        if (of == null) {
            return;
        }
        synchronized (of) {
            commitAll(of);
        }
    }

    /** Commits the file and reports a background commit failure this handle was not told of. */
    private void commitAndReport(Handle h) throws FsException {
        OpenFile of = h.file();
        synchronized (of) {
            commitAll(of);
            reportCommitError(h);
        }
    }

    void flush(long fh) throws FsException {
        commitAndReport(handle(fh));
    }

    void fsync(long fh) throws FsException {
        commitAndReport(handle(fh));
        flushAtimes();
        kv.sync();
    }

    /** Commits every open file and the batched access times, and makes LMDB durable. */
    void syncAll() throws FsException {
        for (long ino : new ArrayList<>(open.keySet())) {
            commit(ino);
        }
        flushAtimes();
        kv.sync();
    }

    /** Writes batched access times (relatime rule: only when older than mtime or than a day). */
    void flushAtimes() {
        if (pendingAtime.isEmpty()) {
            return;
        }
        List<Map.Entry<Long, Long>> batch = new ArrayList<>(pendingAtime.entrySet());
        kv.writeVoid(txn -> {
            for (Map.Entry<Long, Long> e : batch) {
                Inode inode = Namespace.inode(txn, e.getKey());
                long at = e.getValue();
                if (inode != null && at > inode.atimeNs()
                        && (inode.atimeNs() <= inode.mtimeNs() || at - inode.atimeNs() > 86_400_000_000_000L)) {
                    Namespace.putInode(txn, inode.withTimes(at, inode.mtimeNs(), inode.ctimeNs()));
                }
            }
        });
        for (Map.Entry<Long, Long> e : batch) {
            pendingAtime.remove(e.getKey(), e.getValue());
        }
    }

    /** Closes a handle; returns the inode number when that was its last handle, else 0. */
    long release(long fh) throws FsException {
        Handle h = handles.remove(fh);
        if (h == null) {
            return 0;
        }
        OpenFile of = h.file();
        boolean[] last = {false};
        boolean[] mayBeNameless = {false};
        try {
            synchronized (of) {
                commitAll(of);
            }
        } finally {
            open.computeIfPresent(h.ino(), (k, f) -> {
                if (f != of) {
                    return f;
                }
                last[0] = --f.handles == 0;
                mayBeNameless[0] = last[0] && f.claimRefused;
                return last[0] ? null : f;
            });
            if (last[0]) {
                synchronized (of) {
                    // what a failed last commit left is gone with the file's state; so is its share
                    addDirty(of, -of.dirtyBytes);
                }
                hooks.lastHandleCounted(h.ino());
                if (mayBeNameless[0]) {
                    deleteIfOrphan(h.ino());
                }
            }
        }
        return last[0] ? h.ino() : 0;
    }

    /**
     * Removes an inode that lost its last name while open, once its last handle is gone. Called
     * only when a deletion's claim found the file open ({@link OpenFile#claimRefused}): every
     * transaction that leaves an inode without a name claims it first, and the claim and the last
     * release's count-down are ordered by the open map's per-key compute, so either the claim saw no
     * handle and its transaction deletes the inode, or this release saw the refusal. The check runs
     * under the writer lock, so a transaction whose claim was refused has committed (or aborted) by
     * then.
     */
    void deleteIfOrphan(long ino) {
        try (Deletions gone = deletions()) {
            kv.writeVoid(txn -> {
                Inode now = Namespace.inode(txn, ino);
                if (now != null && now.nlink() == 0 && gone.claim(ino)) {
                    Namespace.deleteInode(txn, ino);
                }
            });
        }
    }

    // ---- truncate --------------------------------------------------------------------------

    void ftruncate(long fh, long size) throws FsException {
        truncate(handle(fh).ino(), size);
    }

    void truncate(long ino, long size) throws FsException {
        if (size < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        OpenFile of = open.get(ino);
        if (of == null) {
            truncateCommitted(ino, size);
            return;
        }
        synchronized (of) {
            commitAll(of);
            truncateCommitted(ino, size);
            of.size = size;
        }
    }

    private void truncateCommitted(long ino, long size) throws FsException {
        long now = clock.nowNs();
        long lastIndex = size / blockSize;
        int keep = (int) (size % blockSize);
        byte[] tail = keep == 0 ? new byte[0] : committedBlock(ino, lastIndex);
        byte[] data = tail.length > keep ? Arrays.copyOf(tail, keep) : null;
        BlockRef ref = data == null ? null : new BlockRef(Sha256.of(data), keep);
        long reserved = data == null ? 0 : cache.footprint(keep);
        reserveDirty(reserved);
        try {
            boolean added = Txns.write(kv, txn -> {
                Inode inode = Txns.inodeOrFail(txn, ino);
                if (inode.isDir()) {
                    throw new FsException(Errno.EISDIR, "is a directory");
                }
                Namespace.dropBlocks(txn, ino, keep == 0 ? lastIndex : lastIndex + 1);
                boolean staged = false;
                if (ref != null) {
                    staged = cache.stageDirty(txn, ref, data);
                    Namespace.putBlock(txn, ino, lastIndex, ref);
                }
                Namespace.putInode(txn, inode.withSize(size, now));
                log.contentChanged(txn, ino);
                return staged;
            });
            if (ref != null) {
                cache.committed(ref, data, added);
            }
        } finally {
            cache.releaseDirty(reserved);
        }
    }

    @Override
    public void close() {
        committer.shutdown();
    }
}
