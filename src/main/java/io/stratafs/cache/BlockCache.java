package io.stratafs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
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
 * <p>Blocks are addressed by SHA-256 and checked against it whenever they come from LMDB or a
 * target. Dirty blocks (not yet on every target) are pinned; clean blocks are evicted LRU when the
 * cache is over its size. Writers wait while dirty bytes are at the dirty limit (back-pressure).
 *
 * <p>Lock order: the LMDB writer lock (inside {@link Kv#write}) may be held when this object's
 * monitor is taken, never the other way round: no method calls {@code kv.write} while holding
 * {@code this}.
 */
public final class BlockCache {
    private static final Logger LOG = LoggerFactory.getLogger(BlockCache.class);
    private static final byte CLEAN = 0;
    private static final byte DIRTY = 1;
    private static final long AWAITING_UPLOAD_BYTES = 64L << 20;

    private final Kv kv;
    private final List<ObjectStore> targets;
    private final int[] targetIds;
    private final long capacityBytes;
    private final long dirtyLimitBytes;
    private final Cache<String, byte[]> ram;
    private final LinkedHashMap<String, Integer> cleanLru = new LinkedHashMap<>(1024, 0.75f, true);
    private final Map<String, Integer> dirty = new HashMap<>();
    /** The newest dirty blocks' bytes, oldest dropped beyond {@link #AWAITING_UPLOAD_BYTES}. */
    private final LinkedHashMap<String, byte[]> awaitingUpload = new LinkedHashMap<>();
    private long awaitingUploadBytes;
    private final ReadStats[] readStats;
    private final java.util.Set<String> prefetching = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ThreadPoolExecutor prefetcher;
    private long cleanBytes;
    private long dirtyBytes;
    /** Room promised to writers by {@link #reserveDirty} whose blocks are not staged yet. */
    private long reservedBytes;

    /** A cache whose targets' persistent ids are their places in the list (tests, fixed target lists). */
    public BlockCache(Kv kv, List<ObjectStore> targets, long capacityBytes, long ramBytes) {
        this(kv, targets, java.util.stream.IntStream.range(0, targets.size()).toArray(), capacityBytes, ramBytes, 4);
    }

    /**
     * {@code targetIds} are the targets' persistent ids (0-255), which key their upload queues, so a
     * target keeps its queue when the list is reordered; {@code fetchThreads} bounds the parallel
     * read-ahead fetches (--download-concurrency).
     */
    public BlockCache(Kv kv, List<ObjectStore> targets, int[] targetIds, long capacityBytes, long ramBytes, int fetchThreads) {
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
        this.readStats = new ReadStats[this.targets.size()];
        for (int t = 0; t < readStats.length; t++) {
            readStats[t] = new ReadStats();
        }
        this.ram = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, ramBytes))
                .weigher((String k, byte[] v) -> v.length + 64)
                .build();
        this.prefetcher = new java.util.concurrent.ThreadPoolExecutor(fetchThreads, fetchThreads, 30, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(4 * fetchThreads), r -> {
                    Thread t = new Thread(r, "stratafs-prefetch");
                    t.setDaemon(true);
                    return t;
                }, new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
        this.prefetcher.allowCoreThreadTimeOut(true);
        loadAccounting();
    }

    /**
     * Starts fetching a block in the background (read-ahead) unless it is in RAM or on its way.
     * At most {@code fetchThreads} fetches run and four times as many wait; more requests are
     * dropped, which bounds the memory used.
     */
    public void prefetch(BlockRef ref) {
        String hex = ref.hex();
        if (ram.getIfPresent(hex) != null || !prefetching.add(hex)) {
            return;
        }
        prefetcher.execute(() -> {
            try {
                get(ref);
            } catch (BlockUnavailableException e) {
                LOG.debug("read-ahead of {} failed: {}", hex, e.getMessage());
            } finally {
                prefetching.remove(hex);
            }
        });
    }

    public void close() {
        prefetcher.shutdownNow();
    }

    private void loadAccounting() {
        kv.read(txn -> {
            txn.scan(Table.CACHE_INFO, new byte[0], (k, v) -> {
                String hex = Bytes.hex(Bytes.toArray(k));
                int len = v.getInt(v.position());
                if (v.get(v.position() + 4) == DIRTY) {
                    dirty.put(hex, len);
                    dirtyBytes += len;
                } else {
                    cleanLru.put(hex, len);
                    cleanBytes += len;
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
     * Waits until {@code bytes} more dirty bytes fit under the dirty limit, counting what other
     * writers have reserved but not staged yet, and reserves them; fails at once when they never
     * can. Reserving all of a transaction's blocks in one call means no writer holds room while it
     * waits for more. Give the room back with {@link #releaseDirty} once the blocks are
     * {@link #committed} (or the commit failed).
     */
    public synchronized void reserveDirty(long bytes) throws DirtyLimitException, InterruptedException {
        if (bytes > dirtyLimitBytes) {
            throw new DirtyLimitException(bytes + " bytes of blocks can never fit into a cache of "
                    + capacityBytes + " bytes (raise --cache-size)");
        }
        while (dirtyBytes + reservedBytes + bytes > dirtyLimitBytes) {
            wait(1000);
        }
        reservedBytes += bytes;
    }

    public synchronized void releaseDirty(long bytes) {
        reservedBytes -= bytes;
        notifyAll();
    }

    /** The most dirty data the cache holds before writers wait for uploads. */
    public long dirtyLimitBytes() {
        return dirtyLimitBytes;
    }

    /**
     * Stores a new block inside the caller's write transaction and pins it until every target has
     * it. Returns whether it was new; pass the result to {@link #committed} after the commit.
     */
    public boolean stageDirty(KvWriteTxn txn, BlockRef ref, byte[] data) {
        if (txn.contains(Table.CACHE_INFO, ref.hash())) {
            return false;
        }
        txn.put(Table.CACHE_DATA, ref.hash(), ref.length() == data.length ? data : Arrays.copyOf(data, ref.length()));
        byte[] info = new byte[5];
        Bytes.putInt(info, 0, ref.length());
        info[4] = DIRTY;
        txn.put(Table.CACHE_INFO, ref.hash(), info);
        for (int id : targetIds) {
            txn.put(Table.PENDING, pendingKey(id, ref.hash()), new byte[0]);
        }
        return true;
    }

    /** Accounts for a block staged by {@link #stageDirty} once its transaction committed. */
    public void committed(BlockRef ref, byte[] data, boolean added) {
        String hex = ref.hex();
        if (ref.length() == data.length) {
            ram.put(hex, data);
        }
        if (added) {
            synchronized (this) {
                if (dirty.put(hex, ref.length()) == null) {
                    dirtyBytes += ref.length();
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

    /** Up to {@code max} hashes still to be uploaded to target {@code t}. */
    public List<byte[]> pending(int t, int max) {
        List<byte[]> out = new ArrayList<>();
        kv.read(txn -> {
            txn.scan(Table.PENDING, new byte[] {(byte) targetIds[t]}, (k, v) -> {
                byte[] key = Bytes.toArray(k);
                out.add(Arrays.copyOfRange(key, 1, 33));
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
     * The bytes of a block held locally (dirty blocks always are), checked against the hash. Blocks
     * written recently are served from memory, which spares the uploader reading the LMDB map (and
     * keeps the process's resident size down while a large file is written).
     */
    public byte[] readLocal(byte[] hash) throws BlockUnavailableException {
        byte[] cached;
        synchronized (this) {
            cached = awaitingUpload.get(Bytes.hex(hash));
        }
        if (cached != null) {
            return cached;
        }
        byte[] data = kv.read(txn -> txn.get(Table.CACHE_DATA, hash));
        if (data == null) {
            throw new BlockUnavailableException("block " + Bytes.hex(hash) + " is missing from the local cache");
        }
        if (!Arrays.equals(Sha256.of(data), hash)) {
            throw new BlockUnavailableException("block " + Bytes.hex(hash) + " is corrupt in the local cache");
        }
        return data;
    }

    /** Records that target {@code t} now holds these blocks; blocks on every target become clean. */
    public void uploaded(int t, List<byte[]> hashes) {
        List<byte[]> nowClean = kv.write(txn -> {
            List<byte[]> clean = new ArrayList<>();
            for (byte[] h : hashes) {
                txn.delete(Table.PENDING, pendingKey(targetIds[t], h));
                boolean stillPending = false;
                for (int o = 0; o < targets.size() && !stillPending; o++) {
                    stillPending = o != t && txn.contains(Table.PENDING, pendingKey(targetIds[o], h));
                }
                byte[] info = txn.get(Table.CACHE_INFO, h);
                if (!stillPending && info != null && info[4] == DIRTY) {
                    info[4] = CLEAN;
                    txn.put(Table.CACHE_INFO, h, info);
                    clean.add(h);
                }
            }
            return clean;
        });
        synchronized (this) {
            for (byte[] h : nowClean) {
                String hex = Bytes.hex(h);
                byte[] held = awaitingUpload.remove(hex);
                if (held != null) {
                    awaitingUploadBytes -= held.length;
                }
                Integer len = dirty.remove(hex);
                if (len != null) {
                    dirtyBytes -= len;
                    cleanLru.put(hex, len);
                    cleanBytes += len;
                }
            }
            notifyAll();
        }
        evictOverflow();
    }

    /** Reads a block through the tiers; EIO-worthy failures come as {@link BlockUnavailableException}. */
    public byte[] get(BlockRef ref) throws BlockUnavailableException {
        String hex = ref.hex();
        try {
            byte[] data = ram.get(hex, k -> load(ref));
            if (overCapacity()) {
                evictOverflow();
            }
            return data;
        } catch (UncheckedIOException e) {
            throw (BlockUnavailableException) e.getCause();
        }
    }

    private byte[] load(BlockRef ref) {
        String hex = ref.hex();
        byte[] local = kv.read(txn -> txn.get(Table.CACHE_DATA, ref.hash()));
        if (local != null) {
            if (Arrays.equals(Sha256.of(local), ref.hash())) {
                synchronized (this) {
                    cleanLru.get(hex);
                }
                return local;
            }
            LOG.error("block {} is corrupt in the local cache; fetching it from the storage targets", hex);
        }
        byte[] data = fetch(ref);
        kv.writeVoid(txn -> {
            if (!txn.contains(Table.CACHE_INFO, ref.hash())) {
                txn.put(Table.CACHE_DATA, ref.hash(), data);
                byte[] info = new byte[5];
                Bytes.putInt(info, 0, data.length);
                txn.put(Table.CACHE_INFO, ref.hash(), info);
            } else if (local != null) {
                txn.put(Table.CACHE_DATA, ref.hash(), data);
            }
        });
        synchronized (this) {
            if (!dirty.containsKey(hex) && cleanLru.put(hex, data.length) == null) {
                cleanBytes += data.length;
            }
        }
        return data;
    }

    private byte[] fetch(BlockRef ref) {
        String key = ObjectKeys.block(ref.hex());
        List<String> problems = new ArrayList<>();
        List<ObjectStore> corrupt = new ArrayList<>();
        for (int t : readOrder()) {
            ObjectStore target = targets.get(t);
            long start = System.nanoTime();
            try {
                byte[] data = target.get(key);
                readStats[t].success(System.nanoTime() - start);
                if (Arrays.equals(Sha256.of(data), ref.hash())) {
                    repair(corrupt, key, data);
                    return data;
                }
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

    /** Drops least-recently-used clean blocks until the cache is within its size. */
    public void evictOverflow() {
        List<String> victims = new ArrayList<>();
        synchronized (this) {
            long over = cleanBytes + dirtyBytes - capacityBytes;
            Iterator<Map.Entry<String, Integer>> it = cleanLru.entrySet().iterator();
            while (over > 0 && it.hasNext()) {
                Map.Entry<String, Integer> e = it.next();
                victims.add(e.getKey());
                over -= e.getValue();
            }
        }
        if (victims.isEmpty()) {
            return;
        }
        List<String> evicted = kv.write(txn -> {
            List<String> done = new ArrayList<>();
            for (String hex : victims) {
                byte[] h = Bytes.unhex(hex);
                byte[] info = txn.get(Table.CACHE_INFO, h);
                if (info != null && info[4] == CLEAN) {
                    txn.delete(Table.CACHE_DATA, h);
                    txn.delete(Table.CACHE_INFO, h);
                    done.add(hex);
                }
            }
            return done;
        });
        synchronized (this) {
            for (String hex : evicted) {
                Integer len = cleanLru.remove(hex);
                if (len != null) {
                    cleanBytes -= len;
                }
                ram.invalidate(hex);
            }
        }
    }

    public List<ObjectStore> targets() {
        return targets;
    }
}
