package io.stratafs.meta;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.LmdbException;
import org.lmdbjava.SeekOp;
import org.lmdbjava.Stat;
import org.lmdbjava.Txn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Kv} on one LMDB environment (the only class that knows lmdbjava), with group commit.
 *
 * <p>A {@link #write} does not commit to LMDB. Its changes are appended to the write-ahead file
 * ({@link Wal}, write(2) only) and then published to an in-memory group of pending changes that
 * every later read sees layered over LMDB; so a change is visible, and survives a kill of the
 * daemon, when the call returns. A committer thread hands the group to LMDB in one synced write
 * transaction when it is a second old or holds {@link #DEFAULT_GROUP_BYTES}, while later writes
 * collect in the next group; {@link #sync} fdatasyncs the write-ahead file, so an fsync costs one
 * flush however many changes it covers. LMDB commits stay synced (data and meta pages, no
 * MDB_NOSYNC/MDB_NOMETASYNC), so LMDB is never corrupt; at open, the write-ahead records LMDB does
 * not hold yet are replayed. docs/SEMANTICS.md "Durability contract" states what this promises.
 *
 * <p>An exception in a write's body discards that write's changes only: they are buffered apart
 * until the body returns. LMDB write transactions are begun and committed on one thread each (the
 * committer, or the caller of {@link #restore}/{@link #close}), as LMDB's writer mutex requires.
 * MDB_NOTLS lets read transactions move between FUSE threads.
 *
 * <p>Lock order: {@code commitLock} (one LMDB write transaction at a time), then {@code writer}
 * (one write body at a time; the write-ahead file), then {@code view} (write side: the pending
 * groups change; read side: held by each {@link #read} for its callback, so a read sees LMDB and
 * the groups of one moment). A read's callback must not call {@link #write}: it would wait for its
 * own read lock.
 */
public final class LmdbKv implements Kv {
    private static final Logger LOG = LoggerFactory.getLogger(LmdbKv.class);
    private static final byte[] JOURNAL_NEXT = "journal.next".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    /** LOCAL key: the last write-ahead record whose changes LMDB holds. */
    private static final byte[] WAL_APPLIED = "wal.applied".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    /** A group goes to LMDB once it holds this much (4 MiB blocks are in it too); writers wait at twice it. */
    static final long DEFAULT_GROUP_BYTES = 32L << 20;
    /** ...or once its first change is this old: the most a power loss may take of what nobody fsync'ed. */
    static final long DEFAULT_GROUP_MILLIS = 1000;
    private static final int MAP_FULL_RETRIES = 4;
    /** Values this large are written to the write-ahead file from their own arrays, not copied into the record. */
    static final int WAL_INLINE_MAX = 64 << 10;
    /** Idle read transactions kept for reuse: about as many as threads read at once. */
    private static final int MAX_IDLE_READERS = 32;
    private static final ThreadLocal<ByteBuffer> KEY_BUF =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(511));
    private static final ThreadLocal<ByteBuffer> KEY_BUF2 =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(511));

    private final Env<ByteBuffer> env;
    private final Map<Table, Dbi<ByteBuffer>> dbis = new EnumMap<>(Table.class);
    private final int pageSize;
    private final long groupBytes;
    private final long groupNanos;
    private final DiskSeam seam;
    private final Wal wal;
    private final ReentrantLock commitLock = new ReentrantLock();
    private final ReentrantLock writer = new ReentrantLock();
    private final ReentrantReadWriteLock view = new ReentrantReadWriteLock();
    private final Object signal = new Object();
    /** Reset read transactions, newest first (see {@link #beginRead}). */
    private final java.util.concurrent.ConcurrentLinkedDeque<Txn<ByteBuffer>> idleReaders =
            new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final ThreadLocal<Boolean> freeing = ThreadLocal.withInitial(() -> false);
    private final Thread committer;
    /** The lock on the write-ahead directory; null when another process holds it (read only). */
    private final java.nio.channels.FileLock owner;
    private volatile BooleanSupplier freeRoom;
    /** Changes published since the group being committed was taken; guarded by writer + view. */
    private Pending active = new Pending();
    /** The group being committed to LMDB, or null. */
    private volatile Pending committing;
    private volatile long activeBytes;
    private volatile long activeSinceNanos;
    private volatile long journalNext;
    private long walNext;
    /** Set while a group cannot reach LMDB because the map is full; writes fail with it. */
    private volatile CacheFullException full;
    private volatile boolean closing;
    /** LMDB commits so far (written under commitLock, or at open and restore); see {@link #committedPages}. */
    private volatile long commits;
    private volatile PageCount pageCount;

    public LmdbKv(Path dir, long mapSizeBytes) {
        this(dir, mapSizeBytes, DEFAULT_GROUP_BYTES, DEFAULT_GROUP_MILLIS, DiskSeam.NONE);
    }

    /**
     * With groups of at most {@code groupBytes} (and at most {@link #DEFAULT_GROUP_BYTES}): LMDB
     * reuses the pages a commit frees only two commits later, so the data file holds about three
     * groups of churn beyond the live entries; a small block cache keeps its file near its size
     * with small groups.
     */
    public LmdbKv(Path dir, long mapSizeBytes, long groupBytes) {
        this(dir, mapSizeBytes, Math.min(groupBytes, DEFAULT_GROUP_BYTES), DEFAULT_GROUP_MILLIS, DiskSeam.NONE);
    }

    LmdbKv(Path dir, long mapSizeBytes, long groupBytes, long groupMillis, DiskSeam seam) {
        // a group must fit the map with room to spare, or a small cache would only find out at commit
        this.groupBytes = Math.min(groupBytes, Math.max(32 << 10, mapSizeBytes / 64));
        this.groupNanos = TimeUnit.MILLISECONDS.toNanos(groupMillis);
        this.seam = seam;
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new MetaException("cannot create cache directory " + dir + ": " + e.getMessage(), e);
        }
        try {
            env = Env.create()
                    .setMapSize(mapSizeBytes)
                    .setMaxDbs(Table.values().length + 1)
                    .setMaxReaders(512)
                    .open(dir.toFile(), EnvFlags.MDB_NOTLS);
        } catch (LmdbException e) {
            throw new MetaException("cannot open the LMDB cache in " + dir + ": " + e.getMessage(), e);
        }
        pageSize = env.stat().pageSize;
        for (Table t : Table.values()) {
            dbis.put(t, env.openDbi(t.name().toLowerCase(java.util.Locale.ROOT), DbiFlags.MDB_CREATE));
        }
        Path walDir = dir.resolve("wal");
        owner = lockWal(walDir);
        if (owner == null) {
            // another process owns the write-ahead file: read LMDB as committed, write nothing
            LOG.info("the cache directory {} is in use by another StrataFS process; opened to read only", dir);
            byte[] next = read(txn -> txn.get(Table.LOCAL, JOURNAL_NEXT));
            journalNext = next == null ? 1 : Bytes.getLong(next, 0);
            wal = null;
            committer = null;
            return;
        }
        walNext = replay(walDir) + 1;
        byte[] next = read(txn -> txn.get(Table.LOCAL, JOURNAL_NEXT));
        journalNext = next == null ? 1 : Bytes.getLong(next, 0);
        wal = new Wal(walDir, walNext, seam);
        committer = new Thread(this::commitLoop, "lmdb-group-commit");
        committer.setDaemon(true);
        committer.start();
    }

    /**
     * Takes {@code wal/lock} for this object's life: one process replays, appends to and deletes the
     * write-ahead file. Returns null when another process (a mount, while {@code fsck --cache-dir}
     * reads its cache) holds it.
     */
    private static java.nio.channels.FileLock lockWal(Path walDir) {
        try {
            Files.createDirectories(walDir);
            java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(walDir.resolve("lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                ch.close();
            }
            return lock;
        } catch (java.io.IOException e) {
            throw new MetaException("cannot lock the write-ahead directory " + walDir + ": " + e.getMessage(), e);
        }
    }

    private void checkOwner() {
        if (owner == null) {
            throw new MetaException("this cache directory is in use by another StrataFS process (a mount or stratafs sync); "
                    + "it was opened to read only: stop that process to change it");
        }
    }

    /** Rolls LMDB forward with the write-ahead records it does not hold; returns the last record's number. */
    private long replay(Path walDir) {
        byte[] appliedBytes = read(txn -> txn.get(Table.LOCAL, WAL_APPLIED));
        long applied = appliedBytes == null ? 0 : Bytes.getLong(appliedBytes, 0);
        Wal.Replayed r;
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            r = Wal.replay(walDir, applied, payload -> {
                for (Mutation m : JournalCodec.decode(payload)) {
                    apply(txn, m.table(), m.key(), m.isDelete() ? Pending.DELETED : m.value());
                }
            });
            if (r.applied() > 0) {
                apply(txn, Table.LOCAL, WAL_APPLIED, Bytes.longKey(r.lastSeq()));
                txn.commit();
                lmdbCommitted();
            }
        } catch (Env.MapFullException e) {
            throw new CacheFullException("the LMDB cache file is too small to take back the changes in " + walDir
                    + " (raise --cache-size and mount again)", e);
        }
        if (r.applied() > 0) {
            LOG.info("rolled the LMDB cache forward with {} changes from the write-ahead file (up to record {})",
                    r.applied(), r.lastSeq());
        }
        if (r.stoppedBecause() != null) {
            LOG.warn("the write-ahead file ends early ({}); changes after record {} were not on disk and are lost",
                    r.stoppedBecause(), r.lastSeq());
        }
        return r.lastSeq();
    }

    @Override
    public long lastJournalSeq() {
        return journalNext - 1;
    }

    @Override
    public void restore(List<Mutation> mutations, long lastSeq) {
        checkOwner();
        commitLock.lock();
        writer.lock();
        try {
            commitAll();
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                for (Mutation m : mutations) {
                    apply(txn, m.table(), m.key(), m.isDelete() ? Pending.DELETED : m.value());
                }
                long next = Math.max(journalNext, lastSeq + 1);
                apply(txn, Table.LOCAL, JOURNAL_NEXT, Bytes.longKey(next));
                txn.commit();
                lmdbCommitted();
                journalNext = next;
            }
        } finally {
            writer.unlock();
            commitLock.unlock();
        }
    }

    @Override
    public <T> T read(Function<KvTxn, T> body) {
        view.readLock().lock();
        Txn<ByteBuffer> txn = beginRead();
        try {
            return body.apply(new ReadView(txn, layers(active, committing)));
        } finally {
            endRead(txn);
            view.readLock().unlock();
        }
    }

    /**
     * A read transaction on LMDB's latest commit: an idle one renewed (mdb_txn_renew) when there is
     * one, else a new one. Every FUSE call opens at least one, and lmdbjava's txnRead allocates the
     * transaction and its native key and value holders each time; a renewed one reuses them.
     */
    private Txn<ByteBuffer> beginRead() {
        for (Txn<ByteBuffer> txn; (txn = idleReaders.pollFirst()) != null;) {
            if (renewed(txn)) {
                return txn;
            }
        }
        return env.txnRead();
    }

    /**
     * Renews a reset read transaction; false when its reader slot was taken from it (another LMDB
     * environment on the same file in this process closed and freed this process's slots, which
     * LMDB does not support but tests do): it is dropped, and its few native bytes with it.
     */
    private static boolean renewed(Txn<ByteBuffer> txn) {
        try {
            txn.renew();
            return true;
        } catch (LmdbException e) {
            LOG.debug("dropping an idle LMDB read transaction that cannot be renewed: {}", e.toString());
            return false;
        }
    }

    /** Resets {@code txn} (it stops pinning its snapshot) and keeps it for the next reader, or closes it. */
    private void endRead(Txn<ByteBuffer> txn) {
        if (closing || idleReaders.size() >= MAX_IDLE_READERS) {
            txn.close();
            return;
        }
        txn.reset();
        idleReaders.offerFirst(txn);
    }

    /** Closes the idle read transactions (lmdbjava aborts only a renewed one: a reset one would leak). */
    private void closeIdleReaders() {
        for (Txn<ByteBuffer> txn; (txn = idleReaders.pollFirst()) != null;) {
            if (renewed(txn)) {
                txn.close();
            }
        }
    }

    private static Pending[] layers(Pending... newestFirst) {
        int n = 0;
        for (Pending p : newestFirst) {
            if (p != null && !p.isEmpty()) {
                n++;
            }
        }
        Pending[] out = new Pending[n];
        int i = 0;
        for (Pending p : newestFirst) {
            if (p != null && !p.isEmpty()) {
                out[i++] = p;
            }
        }
        return out;
    }

    @Override
    public void onFull(BooleanSupplier freeRoom) {
        this.freeRoom = freeRoom;
    }

    /**
     * Runs the body over LMDB and the pending groups, appends its changes to the write-ahead file and
     * publishes them. A write made while a full map is being freed (on the committer thread, by
     * {@link #onFull}'s callback) also commits to LMDB at once, so the room it frees is there for the
     * retried group.
     */
    @Override
    public <T> T write(Function<KvWriteTxn, T> body) {
        checkOwner();
        if (view.getReadHoldCount() > 0) {
            throw new IllegalStateException("Kv.write called inside a Kv.read callback; it would wait for its own read lock");
        }
        boolean direct = freeing.get();
        if (!direct) {
            awaitRoom();
        }
        writer.lock();
        try {
            if (writer.getHoldCount() > 1 && !direct) {
                throw new IllegalStateException("Kv.write called inside a Kv.write body; LMDB has one writer");
            }
            Pending mine = new Pending();
            WriteView w;
            T result;
            Txn<ByteBuffer> base = beginRead();
            try {
                Pending[] below = layers(active, committing);
                Pending[] all = new Pending[below.length + 1];
                all[0] = mine;
                System.arraycopy(below, 0, all, 1, below.length);
                w = new WriteView(base, mine, all);
                result = body.apply(w);
            } finally {
                endRead(base);
            }
            if (w.all.isEmpty()) {
                return result;
            }
            CacheFullException f = full;
            if (f != null && !direct && mine.puts(Table.CACHE_DATA)) {
                // only writes that add blocks fail: uploads marking blocks clean (which lets eviction
                // make room) and namespace changes go on
                throw new CacheFullException(f.getMessage(), f);
            }
            long time = System.currentTimeMillis();
            long next = journalNext;
            if (!w.journaled.isEmpty()) {
                if (direct) {
                    throw new IllegalStateException("a write that frees room in a full map changed the namespace");
                }
                w.putRaw(Table.JOURNAL, Bytes.longKey(next), JournalCodec.encode(time, w.journaled));
                next++;
                w.putRaw(Table.LOCAL, JOURNAL_NEXT, Bytes.longKey(next));
            }
            if (direct) {
                commitDirect(mine);
            }
            long seq = walNext;
            wal.append(seq, JournalCodec.encodePieces(time, w.all, Wal.RECORD_HEAD, Wal.RECORD_TAIL, WAL_INLINE_MAX));
            walNext = seq + 1;
            boolean first = active.isEmpty();
            view.writeLock().lock();
            try {
                active.addAll(mine, seq, System.nanoTime());
                // the age first: the committer reads the bytes, then the age, and must not see
                // bytes with an age of 0 (due at once, since System.nanoTime may be far above zero)
                activeSinceNanos = active.sinceNanos();
                activeBytes = active.bytes();
                journalNext = next;
            } finally {
                view.writeLock().unlock();
            }
            if (first || activeBytes >= groupBytes) {
                wakeCommitter(); // to time the new group's second, or because it is full
            }
            return result;
        } finally {
            writer.unlock();
        }
    }

    /**
     * Holds a writer while the pending changes are already twice the group bound, until the committer
     * takes them (and, if it is still committing the last group, finishes that). This is what bounds
     * the heap the pending groups take: a writer must not outrun a committer that is late to take a
     * group (a busy machine, a GC pause) any more than one that is busy committing. A full map lets
     * writers through, to fail there if they add blocks.
     */
    private void awaitRoom() {
        synchronized (signal) {
            while (activeBytes >= 2 * groupBytes && full == null && !closing) {
                if (!committer.isAlive()) {
                    throw new MetaException("the LMDB group committer has stopped; restart the mount (the write-ahead file keeps what was written)");
                }
                seam.writerWaitsForRoom();
                try {
                    signal.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new MetaException("interrupted while waiting for the LMDB group commit to make room", e);
                }
            }
        }
    }

    private void wakeCommitter() {
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    private void commitLoop() {
        while (!closing) {
            try {
                synchronized (signal) {
                    long wait = dueInNanos();
                    if (wait > 0 && !closing) {
                        signal.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
                        continue;
                    }
                }
                if (!closing) {
                    seam.beforeGroupTaken();
                    commitGroup();
                }
            } catch (InterruptedException e) {
                return;
            } catch (CacheFullException e) {
                LOG.error("{}; writes fail until a retry succeeds", e.getMessage());
                sleepQuietly(groupNanos);
            } catch (RuntimeException e) {
                LOG.error("the LMDB group commit failed, retrying: {}", e.getMessage(), e);
                sleepQuietly(groupNanos);
            }
        }
    }

    private static void sleepQuietly(long nanos) {
        try {
            TimeUnit.NANOSECONDS.sleep(Math.max(nanos, TimeUnit.MILLISECONDS.toNanos(100)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long until the pending changes are due for LMDB; Long.MAX_VALUE when there are none. */
    private long dueInNanos() {
        if (committing != null) {
            return 0;
        }
        long bytes = activeBytes;
        if (bytes == 0) {
            return Long.MAX_VALUE / 2;
        }
        if (bytes >= groupBytes) {
            return 0;
        }
        return activeSinceNanos + groupNanos - System.nanoTime();
    }

    /** Commits the group being committed, or else takes the pending changes as a group and commits them. */
    private void commitGroup() {
        commitLock.lock();
        try {
            if (committing == null && !takeGroup()) {
                return;
            }
            commitTaken();
        } finally {
            commitLock.unlock();
        }
    }

    /** Commits everything published so far; the caller holds commitLock. */
    private void commitAll() {
        for (int i = 0; i < 2 && (committing != null || activeBytes > 0); i++) {
            if (committing == null && !takeGroup()) {
                return;
            }
            commitTaken();
        }
    }

    /** Makes the pending changes the group to commit; later writes collect in a fresh one and a new write-ahead segment. */
    private boolean takeGroup() {
        writer.lock();
        try {
            if (active.isEmpty()) {
                return false;
            }
            wal.seal(walNext);
            view.writeLock().lock();
            try {
                committing = active;
                active = new Pending();
                activeBytes = 0;
                activeSinceNanos = 0;
            } finally {
                view.writeLock().unlock();
            }
            wakeCommitter(); // and the writers waiting for room
            return true;
        } finally {
            writer.unlock();
        }
    }

    /**
     * Commits {@link #committing} to LMDB, then drops it from the reads. A group that does not fit the
     * map whole is committed one write at a time, each a synced transaction that also records its
     * write-ahead number (so LMDB always holds a prefix of the writes), with {@link #onFull}'s
     * callback freeing room between tries as each write did before groups.
     */
    private void commitTaken() {
        Pending group = committing;
        if (group.writesCommitted() == 0) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                applyAll(txn, group);
                apply(txn, Table.LOCAL, WAL_APPLIED, Bytes.longKey(group.lastWalSeq()));
                txn.commit();
                lmdbCommitted();
                group.writesCommitted(group.writeCount());
            } catch (Env.MapFullException e) {
                LOG.info("a group of {} writes does not fit the LMDB map whole; committing them one by one", group.writeCount());
            } catch (LmdbException e) {
                throw new MetaException("LMDB group commit failed: " + e.getMessage(), e);
            }
        }
        for (int i = group.writesCommitted(); i < group.writeCount(); i++) {
            commitOne(group.write(i), group.writeSeq(i));
            group.writesCommitted(i + 1);
        }
        full = null;
        writer.lock();
        try {
            view.writeLock().lock();
            try {
                committing = null;
            } finally {
                view.writeLock().unlock();
            }
            wal.dropSealed();
        } finally {
            writer.unlock();
        }
        wakeCommitter();
    }

    private void commitOne(Pending write, long walSeq) {
        for (int attempt = 0;; attempt++) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                applyAll(txn, write);
                apply(txn, Table.LOCAL, WAL_APPLIED, Bytes.longKey(walSeq));
                txn.commit();
                lmdbCommitted();
                return;
            } catch (Env.MapFullException e) {
                BooleanSupplier free = freeRoom;
                if (free == null || attempt >= MAP_FULL_RETRIES || (!freeRoom(free) && attempt >= 1)) {
                    full = new CacheFullException("the LMDB cache file is full (raise --cache-size or free space); "
                            + "the last changes are kept in the write-ahead file", e);
                    throw full;
                }
            } catch (LmdbException e) {
                throw new MetaException("LMDB commit failed: " + e.getMessage(), e);
            }
        }
    }

    /** Runs the callback; its writes commit at once ({@link #write}); one that finds the map full again made no room. */
    private boolean freeRoom(BooleanSupplier free) {
        freeing.set(true);
        try {
            return free.getAsBoolean();
        } catch (CacheFullException e) {
            return false;
        } finally {
            freeing.set(false);
        }
    }

    private void commitDirect(Pending changes) {
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            applyAll(txn, changes);
            txn.commit();
            lmdbCommitted();
        } catch (Env.MapFullException e) {
            throw new CacheFullException("the LMDB cache file is full (raise --cache-size or free space)", e);
        }
    }

    private void applyAll(Txn<ByteBuffer> txn, Pending changes) {
        changes.forEachInOrder((table, key, value) -> apply(txn, table, key, value));
    }

    private void apply(Txn<ByteBuffer> txn, Table table, byte[] key, byte[] value) {
        Dbi<ByteBuffer> dbi = dbis.get(table);
        if (value == Pending.DELETED) {
            dbi.delete(txn, key(KEY_BUF, key));
        } else {
            dbi.reserve(txn, key(KEY_BUF, key), value.length).put(value);
        }
    }

    /** Makes every write that returned survive a power loss: one fdatasync of the write-ahead file. */
    @Override
    public void sync() {
        if (owner == null) {
            return;
        }
        writer.lock();
        try {
            wal.sync();
        } finally {
            writer.unlock();
        }
    }

    /** Commits every pending change to LMDB now (tests, benchmarks). */
    void commitPending() {
        commitLock.lock();
        try {
            commitAll();
        } finally {
            commitLock.unlock();
        }
    }

    /** Runs {@code r} while no write and no commit can run: what is on disk then is stable (tests). */
    void quiesced(Runnable r) {
        commitLock.lock();
        writer.lock();
        try {
            r.run();
        } finally {
            writer.unlock();
            commitLock.unlock();
        }
    }

    @Override
    public long usedBytes() {
        var info = env.info();
        var stat = env.stat();
        return (info.lastPageNumber + 1) * (long) stat.pageSize;
    }

    @Override
    public long mapBytes() {
        return env.info().mapSize;
    }

    /**
     * Counts the changes not yet in LMDB too (values put less values deleted, near enough to LMDB's
     * pages), so the cache's room checks see a fill or an eviction when it returns.
     */
    @Override
    public long liveBytes() {
        long pending;
        view.readLock().lock();
        try {
            Pending group = committing;
            pending = active.netBytes() + (group == null ? 0 : group.netBytes());
        } finally {
            view.readLock().unlock();
        }
        return Math.max(0, committedPages() * pageSize + pending);
    }

    /**
     * LMDB's live pages, counted again only after a commit: they change only when a write
     * transaction commits, and the cache asks before every block commit (a read transaction and a
     * stat of each of the 20 tables, some 2% of the FUSE threads' samples creating small files).
     * A count taken while a commit lands is kept under the older generation and replaced at the
     * next call.
     */
    private long committedPages() {
        PageCount known = pageCount;
        long generation = commits;
        if (known != null && known.generation() == generation) {
            return known.pages();
        }
        long pages;
        try (Txn<ByteBuffer> txn = env.txnRead()) {
            pages = pages(env.stat());
            for (Dbi<ByteBuffer> dbi : dbis.values()) {
                pages += pages(dbi.stat(txn));
            }
        }
        pageCount = new PageCount(generation, pages);
        return pages;
    }

    /** LMDB's live pages as counted after commit number {@code generation}. */
    private record PageCount(long generation, long pages) {
    }

    /** Every LMDB commit ends here: the page count is stale from now on; the seam is told (tests). */
    private void lmdbCommitted() {
        commits++;
        seam.lmdbCommitted();
    }

    private static long pages(Stat s) {
        return s.branchPages + s.leafPages + s.overflowPages;
    }

    @Override
    public int pageSize() {
        return pageSize;
    }

    /** Commits what is pending, removes the write-ahead file and closes LMDB. */
    @Override
    public void close() {
        if (owner == null) {
            closing = true;
            closeIdleReaders();
            env.close();
            return;
        }
        closing = true;
        wakeCommitter();
        try {
            committer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean committed = false;
        commitLock.lock();
        try {
            commitAll();
            committed = committing == null && activeBytes == 0;
        } catch (RuntimeException e) {
            LOG.error("could not commit the last changes to LMDB at close ({}); they stay in the write-ahead file "
                    + "and are replayed at the next open", e.getMessage());
        } finally {
            commitLock.unlock();
        }
        writer.lock();
        try {
            if (!committed) {
                wal.sync();
            }
            wal.close(committed);
        } finally {
            writer.unlock();
        }
        closeIdleReaders();
        env.sync(true);
        env.close();
        try {
            owner.channel().close();
        } catch (java.io.IOException e) {
            LOG.debug("closing the write-ahead lock: {}", e.toString());
        }
    }

    private static ByteBuffer key(ThreadLocal<ByteBuffer> holder, byte[] key) {
        if (key.length > 511) {
            throw new IllegalArgumentException("LMDB key longer than 511 bytes");
        }
        ByteBuffer b = holder.get();
        b.clear();
        b.put(key).flip();
        return b;
    }

    private static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** Unsigned comparison of an LMDB key with a pending one, as LMDB orders keys. */
    private static int compare(ByteBuffer a, byte[] b) {
        int n = Math.min(a.remaining(), b.length);
        int p = a.position();
        for (int i = 0; i < n; i++) {
            int c = Integer.compare(a.get(p + i) & 0xff, b[i] & 0xff);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.remaining(), b.length);
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** LMDB's committed state with the pending groups over it, newest first. */
    private class ReadView implements KvTxn {
        final Txn<ByteBuffer> txn;
        final Pending[] layers;

        ReadView(Txn<ByteBuffer> txn, Pending[] layers) {
            this.txn = txn;
            this.layers = layers;
        }

        /** The layer the caller may change during a scan (a write's own), or null. */
        Pending mutable() {
            return null;
        }

        /** A snapshot of the entries under {@code prefix}: the visitor may put and delete while it runs. */
        private Iterator<Map.Entry<byte[], byte[]>> copyOf(NavigableMap<byte[], byte[]> m, byte[] prefix) {
            List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> e : m.entrySet()) {
                if (!startsWith(e.getKey(), prefix)) {
                    break;
                }
                out.add(Map.entry(e.getKey(), e.getValue()));
            }
            return out.iterator();
        }

        /** The newest pending value, {@link Pending#DELETED}, or null when none is pending. */
        private byte[] pending(Table table, byte[] k) {
            if (layers.length == 0) {
                return null;
            }
            Pending.Key key = new Pending.Key(table, k);
            for (Pending p : layers) {
                byte[] v = p.get(key);
                if (v != null) {
                    return v;
                }
            }
            return null;
        }

        @Override
        public byte[] get(Table table, byte[] k) {
            byte[] p = pending(table, k);
            if (p != null) {
                return p == Pending.DELETED ? null : p.clone();
            }
            ByteBuffer v = dbis.get(table).get(txn, key(KEY_BUF, k));
            return v == null ? null : copy(v);
        }

        /** The value's length, or -1 when the key is absent. */
        long size(Table table, byte[] k) {
            byte[] p = pending(table, k);
            if (p != null) {
                return p == Pending.DELETED ? -1 : p.length;
            }
            ByteBuffer v = dbis.get(table).get(txn, key(KEY_BUF, k));
            return v == null ? -1 : v.remaining();
        }

        @Override
        public boolean contains(Table table, byte[] k) {
            byte[] p = pending(table, k);
            if (p != null) {
                return p != Pending.DELETED;
            }
            return dbis.get(table).get(txn, key(KEY_BUF, k)) != null;
        }

        @Override
        public void scan(Table table, byte[] prefix, byte[] start, EntryVisitor visitor) {
            List<Iterator<Map.Entry<byte[], byte[]>>> its = new ArrayList<>(layers.length);
            List<Map.Entry<byte[], byte[]>> heads = new ArrayList<>(layers.length);
            for (Pending p : layers) {
                NavigableMap<byte[], byte[]> m = p.from(table, start);
                if (!m.isEmpty()) {
                    Iterator<Map.Entry<byte[], byte[]>> it = p == mutable() ? copyOf(m, prefix) : m.entrySet().iterator();
                    if (it.hasNext()) {
                        its.add(it);
                        heads.add(it.next());
                    }
                }
            }
            try (Cursor<ByteBuffer> c = dbis.get(table).openCursor(txn)) {
                boolean ok = start.length == 0 ? c.seek(SeekOp.MDB_FIRST) : c.get(key(KEY_BUF2, start), GetOp.MDB_SET_RANGE);
                while (true) {
                    // the smallest pending key, the newest layer's value for it
                    byte[] pk = null;
                    int from = -1;
                    for (int i = 0; i < heads.size(); i++) {
                        Map.Entry<byte[], byte[]> h = heads.get(i);
                        if (h != null && (pk == null || Arrays.compareUnsigned(h.getKey(), pk) < 0)) {
                            pk = h.getKey();
                            from = i;
                        }
                    }
                    int cmp = !ok ? 1 : pk == null ? -1 : compare(c.key(), pk);
                    if (cmp < 0) {
                        ByteBuffer k = c.key();
                        if (!Bytes.startsWith(k, prefix) || !visitor.visit(k.duplicate(), c.val().duplicate())) {
                            return;
                        }
                        ok = c.next();
                        continue;
                    }
                    if (pk == null) {
                        return;
                    }
                    if (!startsWith(pk, prefix)) {
                        return;
                    }
                    byte[] value = heads.get(from).getValue();
                    for (int i = 0; i < heads.size(); i++) {
                        Map.Entry<byte[], byte[]> h = heads.get(i);
                        if (h != null && Arrays.equals(h.getKey(), pk)) {
                            heads.set(i, its.get(i).hasNext() ? its.get(i).next() : null);
                        }
                    }
                    if (cmp == 0) {
                        ok = c.next();
                    }
                    if (value != Pending.DELETED
                            && !visitor.visit(ByteBuffer.wrap(pk).asReadOnlyBuffer(), ByteBuffer.wrap(value).asReadOnlyBuffer())) {
                        return;
                    }
                }
            }
        }
    }

    /** A write's view: its own changes over the pending groups over LMDB; collects what it changed. */
    private final class WriteView extends ReadView implements KvWriteTxn {
        final Pending mine;
        final List<Mutation> all = new ArrayList<>();
        final List<Mutation> journaled = new ArrayList<>();

        WriteView(Txn<ByteBuffer> txn, Pending mine, Pending[] layers) {
            super(txn, layers);
            this.mine = mine;
        }

        @Override
        Pending mutable() {
            return mine;
        }

        void putRaw(Table table, byte[] k, byte[] value) {
            putValue(table, k, value.clone());
        }

        private void putValue(Table table, byte[] k, byte[] v) {
            if (k.length > 511) {
                throw new IllegalArgumentException("LMDB key longer than 511 bytes");
            }
            byte[] key = k.clone();
            mine.put(table, key, v);
            all.add(new Mutation(table, key, v));
        }

        @Override
        public void put(Table table, byte[] k, byte[] value) {
            putRaw(table, k, value);
            if (table.journaled()) {
                journaled.add(all.get(all.size() - 1));
            }
        }

        /** The value array itself goes into the pending group and the write-ahead record: see {@link KvWriteTxn#putImmutable}. */
        @Override
        public void putImmutable(Table table, byte[] k, byte[] value) {
            putValue(table, k, value);
            if (table.journaled()) {
                journaled.add(all.get(all.size() - 1));
            }
        }

        @Override
        public boolean delete(Table table, byte[] k) {
            long size = size(table, k);
            if (size < 0) {
                return false;
            }
            byte[] key = k.clone();
            mine.delete(table, key, key.length + size);
            Mutation m = new Mutation(table, key, null);
            all.add(m);
            if (table.journaled()) {
                journaled.add(m);
            }
            return true;
        }
    }
}
