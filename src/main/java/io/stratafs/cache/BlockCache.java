package io.stratafs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.MetaException;
import io.stratafs.meta.Table;
import io.stratafs.metrics.ErrorKind;
import io.stratafs.metrics.VolumeMetrics;
import io.stratafs.metrics.VolumeMetrics.ReadTier;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.TrashedBlocks;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block tiers below the VFS: a Caffeine RAM tier over the LMDB tier over the storage targets.
 *
 * <p>Blocks are addressed by SHA-256 and checked against it whenever they come from a target; a
 * block read back from LMDB was checked when it arrived and is checked against the CRC32C stored
 * with it ({@link CacheInfo}). Dirty blocks (not yet on every target) are pinned; clean blocks are
 * evicted LRU when the cache is over its size. Writers wait while dirty bytes are at the dirty
 * limit (back-pressure).
 *
 * <p>Sizes are counted as LMDB stores them ({@link #footprint}): a block over half a page goes to
 * whole overflow pages, so a 4 KiB block takes 8 KiB. The map also holds the namespace, the journal
 * and the upload queue, which the cache does not count; so eviction also starts when LMDB's own
 * page count comes within an eighth of the map, writers wait for room there too, and a write that
 * still finds the map full evicts and retries ({@link Kv#onFull}).
 *
 * <p>Lock order: the LMDB writer lock (inside {@link Kv#write}) may be held when this object's
 * monitor is taken, never the other way round: no method calls {@code kv.write} while holding
 * {@code this}.
 */
public final class BlockCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BlockCache.class);
    private static final byte CLEAN = CacheInfo.CLEAN;
    private static final byte DIRTY = CacheInfo.DIRTY;
    private static final long AWAITING_UPLOAD_BYTES = 64L << 20;
    /** Fetched blocks waiting for the LMDB tier; beyond them fills are dropped (16 MiB of 4 MiB blocks). */
    static final int FILL_QUEUE_BLOCKS = 4;
    /** Bound of the blocks fetched ahead and not yet read through (twelve 4 MiB blocks). */
    static final long READ_AHEAD_HELD_BYTES = 48L << 20;
    /**
     * Written blocks up to this size also go to the RAM tier (a small file is often read right
     * after it is written). Larger ones do not: a sequential write would fill the tier with blocks
     * nobody reads, 160 MiB of the 384 MiB heap at the default 128 MiB tier, while the uploader
     * finds the newest in {@link #awaitingUpload} and readers find them in LMDB.
     */
    static final int RAM_ON_WRITE_MAX = 256 << 10;
    /** G1's region size when G1 runs, else 0: see {@link #heapFootprint}. */
    private static final long HEAP_REGION_BYTES = g1RegionBytes();
    /** LMDB's page header, and a leaf node's header plus its slot in the page index. */
    private static final int PAGE_HEADER = 16;
    private static final int NODE_OVERHEAD = 8 + 2;
    private static final int HASH = 32;
    private static final int INFO = CacheInfo.SIZE;
    /** LOCAL key: how often a full map made the cache evict (written to let LMDB reuse freed pages). */
    private static final byte[] MAP_FULL_EVICTIONS = "cache.map-full-evictions".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private final Kv kv;
    private final VolumeMetrics metrics;
    private final List<ObjectStore> targets;
    private final int[] targetIds;
    private final long capacityBytes;
    private final long dirtyLimitBytes;
    /** LMDB's live pages beyond this (the map less an eighth, kept free for copy-on-write) start eviction. */
    private final long mapLimitBytes;
    private final int pageSize;
    private final Cache<String, byte[]> ram;
    private final LinkedHashMap<String, Integer> cleanLru = new LinkedHashMap<>(1024, 0.75f, true);
    private final Map<String, Integer> dirty = new HashMap<>();
    /**
     * Blocks the uploader made clean before their writer called {@link #committed}: the writer's
     * call then counts them clean instead of dirty.
     */
    private final Map<String, Integer> cleanBeforeCommitted = new HashMap<>();
    /** Counts changes that may let a waiting writer in (uploads, releases, evictions). */
    private long changes;
    /** The newest dirty blocks' bytes, oldest dropped beyond {@link #AWAITING_UPLOAD_BYTES}. */
    private final LinkedHashMap<String, byte[]> awaitingUpload = new LinkedHashMap<>();
    private long awaitingUploadBytes;
    private final ReadStats[] readStats;
    /**
     * Blocks of the LMDB tier whose bytes matched their CRC32C since this cache opened: {@link #read}
     * copies the requested bytes straight out of LMDB's map for them and checks nothing more, as
     * checking the whole block for each 128 KiB request would cost 32 times the block.
     */
    private final Cache<String, Boolean> checkedLocal = Caffeine.newBuilder()
            .maximumSize(1 << 16)
            .executor(Runnable::run)
            .build();
    private final java.util.concurrent.ThreadPoolExecutor prefetcher;
    /** Copies fetched blocks into the LMDB tier off the reader's path; see {@link CacheFill}. */
    private final CacheFill fill;
    /** Blocks fetched ahead of sequential readers, until read through; see {@link ReadAhead}. */
    private final ReadAhead ahead = new ReadAhead(READ_AHEAD_HELD_BYTES);
    /** Set when a fetched block was stored: the next {@link #get} checks LMDB's page count. */
    private final java.util.concurrent.atomic.AtomicBoolean mapFilling = new java.util.concurrent.atomic.AtomicBoolean();
    private long cleanBytes;
    private long dirtyBytes;
    /** Room promised to writers by {@link #reserveDirty} whose blocks are not staged yet. */
    private long reservedBytes;

    /** A cache whose targets' persistent ids are their places in the list (tests, fixed target lists). */
    public BlockCache(Kv kv, List<ObjectStore> targets, long capacityBytes, long ramBytes) {
        this(kv, targets, java.util.stream.IntStream.range(0, targets.size()).toArray(), capacityBytes, ramBytes, 4,
                new VolumeMetrics());
    }

    /**
     * {@code targetIds} are the targets' persistent ids (0-255), which key their upload queues, so a
     * target keeps its queue when the list is reordered; {@code fetchThreads} bounds the parallel
     * read-ahead fetches (--download-concurrency).
     */
    public BlockCache(Kv kv, List<ObjectStore> targets, int[] targetIds, long capacityBytes, long ramBytes, int fetchThreads) {
        this(kv, targets, targetIds, capacityBytes, ramBytes, fetchThreads, new VolumeMetrics());
    }

    /**
     * As above; {@code metrics} counts which tier served each read
     * and the corrupt blocks met.
     */
    public BlockCache(Kv kv, List<ObjectStore> targets, int[] targetIds, long capacityBytes, long ramBytes, int fetchThreads,
                      VolumeMetrics metrics) {
        this.metrics = metrics;
        if (targetIds.length != targets.size()) {
            throw new IllegalArgumentException(targets.size() + " targets but " + targetIds.length + " target ids");
        }
        this.targetIds = targetIds.clone();
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("cache size must be positive, got " + capacityBytes);
        }
        this.kv = kv;
        this.targets = List.copyOf(targets);
        this.capacityBytes = capacityBytes;
        this.dirtyLimitBytes = Math.max(1, capacityBytes * 9 / 10);
        this.mapLimitBytes = kv.mapBytes() - kv.mapBytes() / 8;
        this.pageSize = kv.pageSize();
        this.readStats = new ReadStats[this.targets.size()];
        for (int t = 0; t < readStats.length; t++) {
            readStats[t] = new ReadStats();
        }
        this.ram = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, ramBytes))
                .weigher((String k, byte[] v) -> (int) Math.min(Integer.MAX_VALUE, heapFootprint(v.length, HEAP_REGION_BYTES)))
                // Evict on the thread that inserts: Caffeine's default, the JVM's shared pool, has one
                // thread on a 2-core machine, and while it lags the tier grows by whole blocks past its
                // bound, heap the daemon does not have (RamTierBoundTest).
                .executor(Runnable::run)
                .build();
        this.prefetcher = new java.util.concurrent.ThreadPoolExecutor(fetchThreads, fetchThreads, 30, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(4 * fetchThreads), r -> {
                    Thread t = new Thread(r, "stratafs-prefetch");
                    t.setDaemon(true);
                    return t;
                }, new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());
        this.prefetcher.allowCoreThreadTimeOut(true);
        this.fill = new CacheFill(FILL_QUEUE_BLOCKS, this::keepAndEvict);
        loadAccounting();
        kv.onFull(this::freeRoomInMap);
    }

    /**
     * Starts fetching a block in the background (read-ahead) unless it is in RAM, checked in the
     * LMDB tier, or on its way. A block in the LMDB tier is checked against its CRC32C, which also
     * brings its pages from the disk into memory, and stays there; one from a target is held for
     * its reader until read through ({@link ReadAhead}), not in the RAM tier, and queued for the
     * LMDB tier ({@link CacheFill}). At most {@code fetchThreads} fetches run and four times as many
     * wait; more requests are dropped, which bounds the memory used.
     */
    public void prefetch(BlockRef ref) {
        String hex = ref.hex();
        if (ram.getIfPresent(hex) != null || checkedLocal.getIfPresent(hex) != null) {
            return;
        }
        ReadAhead.Fetch claimed = ahead.claim(hex);
        if (claimed == null) {
            return;
        }
        try {
            prefetcher.execute(() -> {
                if (!claimed.start()) {
                    return; // a reader took it over
                }
                byte[] data = null;
                try {
                    if (!kv.read(txn -> checkLocal(txn, ref))) {
                        data = fetch(ref);
                        offerFill(ref, data, false);
                    }
                } catch (UncheckedIOException e) {
                    LOG.debug("read-ahead of {} failed: {}", hex, e.getCause().getMessage());
                } finally {
                    ahead.finish(hex, claimed, data);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            ahead.finish(hex, claimed, null); // queue full (or closing): the reader fetches it when it gets there
        }
    }

    /** Stops read-ahead and the fill thread; the LMDB environment it writes to must still be open. */
    @Override
    public void close() {
        prefetcher.shutdownNow();
        fill.close();
    }

    /**
     * Waits until the fetched blocks queued for the LMDB tier are there (or were refused), for at
     * most {@code timeoutMs}; returns whether they are. Readers never need this: tests do.
     */
    public boolean awaitFills(long timeoutMs) throws InterruptedException {
        return fill.awaitIdle(timeoutMs);
    }

    /** Fetched blocks not kept in the LMDB tier because the fill queue was full, since this cache opened. */
    public long droppedFills() {
        return metrics.cacheFillsDropped();
    }

    long readAheadHeldBytes() {
        return ahead.heldBytes();
    }

    void fillHooks(CacheFill.Hooks hooks) {
        fill.hooks(hooks);
    }

    private void loadAccounting() {
        kv.read(txn -> {
            txn.scan(Table.CACHE_INFO, new byte[0], (k, v) -> {
                String hex = Bytes.hex(Bytes.toArray(k));
                int len = v.getInt(v.position());
                if (v.get(v.position() + 4) == DIRTY) {
                    dirty.put(hex, len);
                    dirtyBytes += footprint(len);
                } else {
                    cleanLru.put(hex, len);
                    cleanBytes += footprint(len);
                }
                return true;
            });
            return null;
        });
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    public synchronized long dirtyBytes() {
        return dirtyBytes;
    }

    public synchronized long cachedBytes() {
        return dirtyBytes + cleanBytes;
    }

    public synchronized int dirtyBlocks() {
        return dirty.size();
    }

    /**
     * Waits until {@code bytes} more dirty bytes (counted by {@link #footprint}) fit under the dirty
     * limit and into LMDB's map, counting what other writers have reserved but not staged yet, and
     * reserves them; evicts clean blocks when that makes room in the map, and fails at once when
     * they never can fit. Reserving all of a transaction's blocks in one call means no writer holds
     * room while it waits for more. Give the room back with {@link #releaseDirty} once the blocks
     * are {@link #committed} (or the commit failed).
     */
    public void reserveDirty(long bytes) throws DirtyLimitException, InterruptedException {
        if (bytes > dirtyLimitBytes || bytes > mapLimitBytes) {
            throw new DirtyLimitException(bytes + " bytes of blocks can never fit into a cache of "
                    + capacityBytes + " bytes (raise --cache-size)");
        }
        while (true) {
            long live = kv.liveBytes();
            long seen;
            long mapShort;
            synchronized (this) {
                mapShort = bytes == 0 ? 0 : live + reservedBytes + bytes - mapLimitBytes;
                if (dirtyBytes + reservedBytes + bytes <= dirtyLimitBytes && mapShort <= 0) {
                    reservedBytes += bytes;
                    return;
                }
                if (mapShort > 0 && cleanLru.isEmpty() && dirty.isEmpty() && reservedBytes == 0) {
                    throw new DirtyLimitException("the LMDB cache file is full with metadata alone; "
                            + bytes + " more bytes of blocks do not fit (raise --cache-size)");
                }
                seen = changes;
            }
            if (mapShort <= 0 || evict(mapShort) == 0) {
                synchronized (this) {
                    if (changes == seen) {
                        wait(1000);
                    }
                }
            }
        }
    }

    public synchronized void releaseDirty(long bytes) {
        reservedBytes -= bytes;
        changed();
    }

    private synchronized void changed() {
        changes++;
        notifyAll();
    }

    /** The most dirty data the cache holds before writers wait for uploads. */
    public long dirtyLimitBytes() {
        return dirtyLimitBytes;
    }

    /**
     * The bytes a block of {@code length} bytes takes in LMDB, the unit of every size here: its
     * CACHE_DATA entry, in the leaf page up to about half a page and in whole overflow pages (each
     * with a page header) beyond, and its CACHE_INFO entry. Leaf bytes count twice, as B-tree pages
     * are about half full after splits.
     */
    public long footprint(int length) {
        int nodeMax = ((pageSize - PAGE_HEADER) / 2 & ~1) - 2;
        long info = NODE_OVERHEAD + HASH + INFO + 1;
        if (NODE_OVERHEAD - 2 + HASH + length <= nodeMax) {
            return 2 * (info + NODE_OVERHEAD + HASH + length + (length & 1));
        }
        long overflowPages = (length + PAGE_HEADER + pageSize - 1L) / pageSize;
        return overflowPages * pageSize + 2 * (info + NODE_OVERHEAD + HASH + Long.BYTES);
    }

    /**
     * Stores a new block inside the caller's write transaction and pins it until every target has
     * it. Returns whether it was new; pass the result to {@link #committed} after the commit.
     */
    public boolean stageDirty(KvWriteTxn txn, BlockRef ref, byte[] data) {
        if (txn.contains(Table.CACHE_INFO, ref.hash())) {
            return false;
        }
        // the writer's array is the block from now on (the RAM tier and the upload queue hold it too)
        txn.putImmutable(Table.CACHE_DATA, ref.hash(), ref.length() == data.length ? data : Arrays.copyOf(data, ref.length()));
        txn.put(Table.CACHE_INFO, ref.hash(), CacheInfo.of(data, ref.length(), DIRTY));
        for (int id : targetIds) {
            txn.put(Table.PENDING, pendingKey(id, ref.hash()), new byte[0]);
        }
        return true;
    }

    /** Bytes of block data the RAM tier holds right now. */
    /**
     * The heap a byte array of {@code length} takes. Under G1 an array of half a region or more is
     * "humongous" and gets whole regions of its own: with the launcher's 384 MiB heap (1 MiB
     * regions) a 4 MiB block takes 5 MiB. The RAM tier weighs blocks by this, so its bound is the
     * heap it holds: weighed by length, 128 MiB of blocks held 160 MiB, and a 1 GiB write to
     * S3Proxy peaked at 319 of 384 MiB after collections, close enough to the top that a commit's
     * 4 MiB allocation failed with OutOfMemoryError (fsync EIO) when the heap was 300 MiB.
     */
    static long heapFootprint(int length, long regionBytes) {
        long object = (16L + length + 7) & ~7L;
        if (regionBytes <= 0 || object < regionBytes / 2) {
            return length + 64L;
        }
        return (object + regionBytes - 1) / regionBytes * regionBytes;
    }

    private static long g1RegionBytes() {
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            if (!"true".equals(vm.getVMOption("UseG1GC").getValue())) {
                return 0;
            }
            return Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    public long ramHeldBytes() {
        long sum = 0;
        for (byte[] v : ram.asMap().values()) {
            sum += v.length;
        }
        return sum;
    }

    /**
     * Accounts for a block staged by {@link #stageDirty} once its transaction committed. The
     * uploader may have made it clean in between ({@link #uploaded} then left a note for this call).
     */
    public void committed(BlockRef ref, byte[] data, boolean added) {
        String hex = ref.hex();
        if (ref.length() == data.length && data.length <= RAM_ON_WRITE_MAX) {
            ram.put(hex, data);
        }
        if (!added) {
            return;
        }
        synchronized (this) {
            if (cleanBeforeCommitted.remove(hex) != null) {
                if (cleanLru.put(hex, ref.length()) == null) {
                    cleanBytes += footprint(ref.length());
                }
            } else {
                if (dirty.put(hex, ref.length()) == null) {
                    dirtyBytes += footprint(ref.length());
                }
                if (ref.length() == data.length && awaitingUpload.put(hex, data) == null) {
                    awaitingUploadBytes += data.length;
                }
                Iterator<byte[]> oldest = awaitingUpload.values().iterator();
                while (awaitingUploadBytes > AWAITING_UPLOAD_BYTES && oldest.hasNext()) {
                    awaitingUploadBytes -= oldest.next().length;
                    oldest.remove();
                }
            }
        }
        if (overCapacity()) {
            evictOverflow();
        }
    }

    /** The persistent id of the target at {@code t} in the list. */
    public int targetId(int t) {
        return targetIds[t];
    }

    /**
     * Queues every dirty block for target {@code t}: a target new to this cache (or one that lost
     * data) has none of them, and its queue cannot be trusted.
     */
    public void pendAllDirty(int t) {
        int id = targetIds[t];
        kv.writeVoid(txn -> {
            List<byte[]> dirtyHashes = new ArrayList<>();
            txn.scan(Table.CACHE_INFO, new byte[0], (k, v) -> {
                if (v.get(v.position() + 4) == DIRTY) {
                    dirtyHashes.add(Bytes.toArray(k));
                }
                return true;
            });
            for (byte[] h : dirtyHashes) {
                txn.put(Table.PENDING, pendingKey(id, h), new byte[0]);
            }
        });
    }

    static byte[] pendingKey(int targetId, byte[] hash) {
        byte[] k = new byte[33];
        k[0] = (byte) targetId;
        System.arraycopy(hash, 0, k, 1, 32);
        return k;
    }

    /** Whether target {@code t} (its place in the list) still lacks this block, as {@code txn} sees it. */
    public boolean isPending(KvTxn txn, int t, byte[] hash) {
        return txn.contains(Table.PENDING, pendingKey(targetIds[t], hash));
    }

    /** Up to {@code max} hashes still to be uploaded to target {@code t}. */
    public List<byte[]> pending(int t, int max) {
        return pending(t, max, null);
    }

    /**
     * As {@link #pending(int, int)}, but only blocks whose hash sorts after {@code after} (null: from
     * the first). An uploader going through its backlog batch by batch passes the last hash of the
     * previous batch: the blocks it just uploaded stay in the scan's way, as deletions in the pending
     * group, until the next LMDB commit, so every scan from the first hash stepped over all of them.
     */
    public List<byte[]> pending(int t, int max, byte[] after) {
        List<byte[]> out = new ArrayList<>();
        byte[] prefix = {(byte) targetIds[t]};
        byte[] start = prefix;
        if (after != null) {
            start = Arrays.copyOf(prefix, 1 + after.length);
            System.arraycopy(after, 0, start, 1, after.length);
        }
        byte[] from = start;
        kv.read(txn -> {
            txn.scan(Table.PENDING, prefix, from, (k, v) -> {
                byte[] key = Bytes.toArray(k);
                byte[] hash = Arrays.copyOfRange(key, 1, 33);
                if (after == null || !Arrays.equals(hash, after)) {
                    out.add(hash);
                }
                return out.size() < max;
            });
            return null;
        });
        return out;
    }

    public long pendingCount(int t) {
        long[] n = {0};
        kv.read(txn -> {
            txn.scan(Table.PENDING, new byte[] {(byte) targetIds[t]}, (k, v) -> {
                n[0]++;
                return true;
            });
            return null;
        });
        return n[0];
    }

    /**
     * The bytes of a block held locally (dirty blocks always are), checked by
     * {@link CacheInfo#intact}. Blocks written recently are served from memory, which spares the
     * uploader reading the LMDB map (and keeps the process's resident size down while a large file
     * is written).
     */
    public byte[] readLocal(byte[] hash) throws BlockUnavailableException {
        return local(hash, false).data();
    }

    /**
     * The block as {@link #readLocal} finds it: from memory while it awaits upload (with its
     * {@code cache_info} record only when {@code withInfo}), else from LMDB, checked.
     */
    private Stored local(byte[] hash, boolean withInfo) throws BlockUnavailableException {
        byte[] cached;
        synchronized (this) {
            cached = awaitingUpload.get(Bytes.hex(hash));
        }
        if (cached != null && !withInfo) {
            return new Stored(cached, null);
        }
        Stored stored = kv.read(txn -> cached != null ? new Stored(cached, txn.get(Table.CACHE_INFO, hash)) : Stored.read(txn, hash));
        if (stored == null) {
            throw new BlockUnavailableException("block " + Bytes.hex(hash) + " is missing from the local cache");
        }
        if (cached == null && !stored.intact(hash)) {
            throw new BlockUnavailableException("block " + Bytes.hex(hash) + " is corrupt in the local cache");
        }
        return stored;
    }

    /**
     * A block to upload: its bytes as {@link #readLocal} gives them, and the CRC32C its
     * {@code cache_info} record holds, computed from the bytes the writer hashed when it named
     * the block; null for a record older than the CRC. A server that checks it refuses a body
     * that changed since (in LMDB, in memory or on the wire), as a signed SHA-256 would.
     */
    public record Upload(byte[] data, Integer crc32c) {
    }

    /** {@link #readLocal} with the block's recorded CRC32C, for an upload ({@link Upload}). */
    public Upload readForUpload(byte[] hash) throws BlockUnavailableException {
        Stored stored = local(hash, true);
        return new Upload(stored.data(), CacheInfo.crc32c(stored.info()));
    }

    /**
     * Records that target {@code t} now holds these blocks; blocks on every target become clean,
     * also those whose writer has not called {@link #committed} yet.
     */
    public void uploaded(int t, List<byte[]> hashes) {
        List<Cleaned> nowClean = kv.write(txn -> {
            List<Cleaned> clean = new ArrayList<>();
            for (byte[] h : hashes) {
                txn.delete(Table.PENDING, pendingKey(targetIds[t], h));
                boolean stillPending = false;
                for (int o = 0; o < targets.size() && !stillPending; o++) {
                    stillPending = o != t && txn.contains(Table.PENDING, pendingKey(targetIds[o], h));
                }
                byte[] info = txn.get(Table.CACHE_INFO, h);
                if (!stillPending && info != null && CacheInfo.dirty(info)) {
                    txn.put(Table.CACHE_INFO, h, CacheInfo.withState(info, CLEAN));
                    clean.add(new Cleaned(h, CacheInfo.length(info)));
                }
            }
            return clean;
        });
        synchronized (this) {
            for (Cleaned c : nowClean) {
                int length = c.length();
                String hex = Bytes.hex(c.hash());
                byte[] held = awaitingUpload.remove(hex);
                if (held != null) {
                    awaitingUploadBytes -= held.length;
                }
                if (dirty.remove(hex) == null) {
                    cleanBeforeCommitted.put(hex, length);
                } else {
                    dirtyBytes -= footprint(length);
                    cleanLru.put(hex, length);
                    cleanBytes += footprint(length);
                }
            }
            changed();
        }
        evictOverflow();
    }

    private record Cleaned(byte[] hash, int length) {
    }

    /** A block's bytes and its {@code cache_info} record (null when it has none), read in one transaction. */
    private record Stored(byte[] data, byte[] info) {
        static Stored read(KvTxn txn, byte[] hash) {
            byte[] data = txn.get(Table.CACHE_DATA, hash);
            return data == null ? null : new Stored(data, txn.get(Table.CACHE_INFO, hash));
        }

        boolean intact(byte[] hash) {
            return CacheInfo.intact(info, hash, java.nio.ByteBuffer.wrap(data));
        }
    }

    /**
     * Makes sure a block is in the LMDB tier, fetching it from a target when it is not, and marks it
     * recently used. Returns the bytes fetched (0 when it was local already). The RAM tier is left
     * alone: warming a working set must not push out what readers use now.
     */
    public long warm(BlockRef ref) throws BlockUnavailableException {
        String hex = ref.hex();
        synchronized (this) {
            if (cleanLru.get(hex) != null || dirty.containsKey(hex)) {
                return 0;
            }
        }
        byte[] data;
        try {
            data = fetch(ref);
        } catch (UncheckedIOException e) {
            throw (BlockUnavailableException) e.getCause();
        }
        if (!keep(ref, data, false)) {
            throw new BlockUnavailableException("block " + hex + " was fetched but the local cache could not keep it (see the log)");
        }
        if (overCapacity() || mapFilling.getAndSet(false)) {
            evictOverflow();
        }
        return data.length;
    }

    /**
     * Reads a block through the tiers for a caller, counting the tier that served it; EIO-worthy
     * failures come as {@link BlockUnavailableException}.
     */
    public byte[] get(BlockRef ref) throws BlockUnavailableException {
        ReadTier[] servedBy = {ReadTier.RAM};
        byte[] data = read(ref, servedBy);
        metrics.cacheRead(servedBy[0]);
        return data;
    }

    /**
     * Copies {@code n} bytes of a block from {@code from} into {@code dst} at {@code dstOff}, zeros
     * past the block's end, counting the tier that served them. From the RAM tier, or straight out
     * of LMDB's map (no copy of the whole block, nothing for the collector) once the block's CRC32C
     * was checked; else as {@link #get}.
     */
    public void read(BlockRef ref, int from, byte[] dst, int dstOff, int n) throws BlockUnavailableException {
        byte[] held = ram.getIfPresent(ref.hex());
        if (held != null) {
            metrics.cacheRead(ReadTier.RAM);
            copyOut(held.length, from, dst, dstOff, n, (at, to, len) -> System.arraycopy(held, at, dst, to, len));
            return;
        }
        if (ahead.serve(ref.hex(), from, dst, dstOff, n)) {
            metrics.cacheRead(ReadTier.RAM);
            return;
        }
        ahead.awaitOrTakeOver(ref.hex());
        if (ahead.serve(ref.hex(), from, dst, dstOff, n)) {
            metrics.cacheRead(ReadTier.RAM);
            return;
        }
        boolean copied = kv.read(txn -> checkLocal(txn, ref) && withLocal(txn, ref.hash(), block -> {
            copyOut(block.remaining(), from, dst, dstOff, n, (at, to, len) -> block.get(block.position() + at, dst, to, len));
            return true;
        }));
        if (copied) {
            synchronized (this) {
                cleanLru.get(ref.hex());
            }
            metrics.cacheRead(ReadTier.LOCAL);
            return;
        }
        byte[] data = get(ref);
        copyOut(data.length, from, dst, dstOff, n, (at, to, len) -> System.arraycopy(data, at, dst, to, len));
    }

    /** Copies one range of bytes of a block; {@code at} is within the block, {@code to} within the destination. */
    @FunctionalInterface
    private interface RangeCopy {
        void copy(int at, int to, int length);
    }

    private static void copyOut(int blockLength, int from, byte[] dst, int dstOff, int n, RangeCopy copy) {
        int avail = Math.max(0, Math.min(n, blockLength - from));
        if (avail > 0) {
            copy.copy(from, dstOff, avail);
        }
        Arrays.fill(dst, dstOff + avail, dstOff + n, (byte) 0);
    }

    /**
     * Whether the block is in the LMDB tier and intact, as {@code txn} sees it: checked once per
     * block ({@link #checkedLocal}); a corrupt copy is left to {@link #load}, which counts, logs
     * and replaces it.
     */
    private boolean checkLocal(KvTxn txn, BlockRef ref) {
        String hex = ref.hex();
        if (checkedLocal.getIfPresent(hex) != null) {
            return true;
        }
        byte[] info = txn.get(Table.CACHE_INFO, ref.hash());
        boolean intact = withLocal(txn, ref.hash(), block -> CacheInfo.intact(info, ref.hash(), block));
        if (intact) {
            checkedLocal.put(hex, Boolean.TRUE);
        }
        return intact;
    }

    /** Applies {@code body} to the block's bytes in LMDB's map, valid only during the call; false when absent. */
    private static boolean withLocal(KvTxn txn, byte[] hash, java.util.function.Predicate<java.nio.ByteBuffer> body) {
        boolean[] result = {false};
        txn.scan(Table.CACHE_DATA, hash, (k, v) -> {
            result[0] = body.test(v);
            return false;
        });
        return result[0];
    }

    /** {@code servedBy}, when given, receives the lower tier that loaded the block (RAM when none had to). */
    private byte[] read(BlockRef ref, ReadTier[] servedBy) throws BlockUnavailableException {
        String hex = ref.hex();
        if (ram.getIfPresent(hex) == null) {
            ahead.awaitOrTakeOver(hex); // not a second fetch of a block on its way
        }
        try {
            byte[] data = ram.get(hex, k -> load(ref, servedBy));
            if (overCapacity() || mapFilling.getAndSet(false)) {
                evictOverflow();
            }
            return data;
        } catch (UncheckedIOException e) {
            throw (BlockUnavailableException) e.getCause();
        }
    }

    private byte[] load(BlockRef ref, ReadTier[] servedBy) {
        String hex = ref.hex();
        byte[] fetchedAhead = ahead.peek(hex);
        if (fetchedAhead != null) {
            return fetchedAhead;
        }
        Stored local = kv.read(txn -> Stored.read(txn, ref.hash()));
        if (local != null) {
            if (local.intact(ref.hash())) {
                synchronized (this) {
                    cleanLru.get(hex);
                }
                if (servedBy != null) {
                    servedBy[0] = ReadTier.LOCAL;
                }
                return local.data();
            }
            metrics.error(ErrorKind.CORRUPT_CACHE_BLOCK);
            LOG.error("block {} is corrupt in the local cache; fetching it from the storage targets", hex);
        }
        if (servedBy != null) {
            servedBy[0] = ReadTier.TARGET;
        }
        byte[] data = fetch(ref);
        offerFill(ref, data, local != null);
        return data;
    }

    private void offerFill(BlockRef ref, byte[] data, boolean replaceCorrupt) {
        if (!fill.offer(ref, data, replaceCorrupt)) {
            metrics.cacheFillDropped();
        }
    }

    /** The fill thread's work: keeps a fetched block, then evicts if the cache went over its bounds. */
    private void keepAndEvict(BlockRef ref, byte[] data, boolean replaceCorrupt) {
        if (keep(ref, data, replaceCorrupt) && (overCapacity() || mapFilling.getAndSet(false))) {
            evictOverflow();
        }
    }

    /**
     * Stores a block fetched from a target. The reader gets the block whether or not this works:
     * keeping a copy is an optimisation (the map may be full of dirty blocks).
     */
    private boolean keep(BlockRef ref, byte[] data, boolean replaceCorrupt) {
        String hex = ref.hex();
        try {
            kv.writeVoid(txn -> {
                byte[] info = txn.get(Table.CACHE_INFO, ref.hash());
                // a fetched block is never changed: readers copy out of it
                if (info == null) {
                    txn.putImmutable(Table.CACHE_DATA, ref.hash(), data);
                    txn.put(Table.CACHE_INFO, ref.hash(), CacheInfo.of(data, data.length, CLEAN));
                } else if (replaceCorrupt) {
                    checkedLocal.invalidate(hex);
                    txn.putImmutable(Table.CACHE_DATA, ref.hash(), data);
                    txn.put(Table.CACHE_INFO, ref.hash(), CacheInfo.of(data, data.length, CacheInfo.dirty(info) ? DIRTY : CLEAN));
                }
            });
        } catch (MetaException e) {
            LOG.warn("block {} was read from storage but cannot be kept in the local cache: {}", hex, e.getMessage());
            return false;
        }
        synchronized (this) {
            if (!dirty.containsKey(hex) && cleanLru.put(hex, data.length) == null) {
                cleanBytes += footprint(data.length);
            }
        }
        mapFilling.set(true);
        return true;
    }

    private byte[] fetch(BlockRef ref) {
        String key = ObjectKeys.block(ref.hex());
        List<String> problems = new ArrayList<>();
        List<ObjectStore> corrupt = new ArrayList<>();
        for (int t : readOrder()) {
            ObjectStore target = targets.get(t);
            long start = System.nanoTime();
            try {
                byte[] data = TrashedBlocks.read(target, ref.hex());
                readStats[t].success(System.nanoTime() - start);
                if (Arrays.equals(Sha256.of(data), ref.hash())) {
                    repair(corrupt, key, data);
                    return data;
                }
                metrics.error(ErrorKind.CORRUPT_OBJECT);
                LOG.error("object {} in {} is corrupt (its SHA-256 does not match its name)", key, target.describe());
                problems.add(target.describe() + ": corrupt");
                corrupt.add(target);
            } catch (StoreException e) {
                readStats[t].failure();
                problems.add(target.describe() + ": " + e.getMessage());
            }
        }
        throw new UncheckedIOException(new BlockUnavailableException(
                "cannot read block " + key + " from any target (" + String.join("; ", problems) + ")"));
    }

    /** Target indexes, those that answered recently first, then by their average read latency. */
    private List<Integer> readOrder() {
        List<Integer> order = new ArrayList<>();
        for (int t = 0; t < targets.size(); t++) {
            order.add(t);
        }
        long now = System.currentTimeMillis();
        order.sort(java.util.Comparator.<Integer>comparingInt(t -> readStats[t].failingAt(now) ? 1 : 0)
                .thenComparingLong(t -> readStats[t].averageNanos));
        return order;
    }

    /** Read health of one target: a moving average of GET latency and the time of the last failure. */
    private static final class ReadStats {
        private static final long FAILURE_MEMORY_MS = 30_000;
        volatile long averageNanos;
        volatile long lastFailureMillis;

        void success(long nanos) {
            long avg = averageNanos;
            averageNanos = avg == 0 ? nanos : avg + (nanos - avg) / 8;
            lastFailureMillis = 0;
        }

        void failure() {
            lastFailureMillis = System.currentTimeMillis();
        }

        boolean failingAt(long now) {
            long f = lastFailureMillis;
            return f != 0 && now - f < FAILURE_MEMORY_MS;
        }
    }

    private static void repair(List<ObjectStore> corrupt, String key, byte[] good) {
        for (ObjectStore bad : corrupt) {
            try {
                bad.put(key, good);
                LOG.warn("repaired corrupt object {} in {} from a good copy", key, bad.describe());
            } catch (StoreException e) {
                LOG.warn("could not repair corrupt object {} in {}: {}", key, bad.describe(), e.getMessage());
            }
        }
    }

    private synchronized boolean overCapacity() {
        return cleanBytes + dirtyBytes > capacityBytes;
    }

    /**
     * Drops least-recently-used clean blocks until the cache is within its size and LMDB's live
     * pages are within the map limit, and a further 1/64 of the size, so that a stream of cold
     * reads evicts in batches rather than with one transaction per block.
     */
    public void evictOverflow() {
        long mapOver = kv.liveBytes() - mapLimitBytes;
        long over;
        synchronized (this) {
            over = Math.max(cleanBytes + dirtyBytes - capacityBytes, mapOver);
        }
        if (over > 0) {
            evict(over + capacityBytes / 64);
        }
    }

    /**
     * Called by LMDB when a write finds the map full: frees a sixteenth of the map, if that much is
     * clean. LMDB reuses the pages a transaction frees only two commits later (the previous meta
     * page still refers to them), so a small commit follows the eviction before the write retries.
     */
    private boolean freeRoomInMap() {
        long evicted = evict(Math.max(kv.mapBytes() / 16, pageSize));
        if (evicted == 0) {
            return false;
        }
        LOG.info("the LMDB cache file was full; evicted {} bytes of clean blocks to make room", evicted);
        kv.writeVoid(txn -> {
            byte[] count = txn.get(Table.LOCAL, MAP_FULL_EVICTIONS);
            txn.put(Table.LOCAL, MAP_FULL_EVICTIONS, Bytes.longKey(count == null ? 1 : Bytes.getLong(count, 0) + 1));
        });
        return true;
    }

    /** Evicts least-recently-used clean blocks of at least {@code bytes} footprint if there are; returns the bytes evicted. */
    private long evict(long bytes) {
        List<String> victims = new ArrayList<>();
        synchronized (this) {
            long over = bytes;
            Iterator<Map.Entry<String, Integer>> it = cleanLru.entrySet().iterator();
            while (over > 0 && it.hasNext()) {
                Map.Entry<String, Integer> e = it.next();
                victims.add(e.getKey());
                over -= footprint(e.getValue());
            }
        }
        if (victims.isEmpty()) {
            return 0;
        }
        List<String> evicted = kv.write(txn -> {
            List<String> done = new ArrayList<>();
            for (String hex : victims) {
                byte[] h = Bytes.unhex(hex);
                byte[] info = txn.get(Table.CACHE_INFO, h);
                if (info != null && !CacheInfo.dirty(info)) {
                    checkedLocal.invalidate(hex);
                    txn.delete(Table.CACHE_DATA, h);
                    txn.delete(Table.CACHE_INFO, h);
                    done.add(hex);
                }
            }
            return done;
        });
        // The RAM tier keeps its copies: it is bounded by itself, and this may run inside one of its
        // loads (a fetched block retried after a full map), where other entries must not be touched.
        long freed = 0;
        synchronized (this) {
            for (String hex : evicted) {
                Integer len = cleanLru.remove(hex);
                if (len != null) {
                    cleanBytes -= footprint(len);
                    freed += footprint(len);
                }
            }
            changed();
        }
        return freed;
    }

    public List<ObjectStore> targets() {
        return targets;
    }
}
