package io.stratafs.writeback;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.config.VolumeRecord;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvTxn;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectExistsException;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import io.stratafs.store.StoreUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one storage target up to date: first every block pending for it, then the journal records
 * that name them, then (now and then) a checkpoint. The order keeps invariant 4: a target never
 * holds a journal record or checkpoint naming a block it does not hold. Before its first upload in a
 * mount the target is checked (its volume record, how much journal it holds) and, if it lacks
 * history, caught up from another target ({@link CatchUp}).
 *
 * <p>Lock order: {@link #passLock} is taken before the LMDB writer lock (inside {@code kv.write}),
 * never while holding it.
 */
final class TargetUploader {
    private static final Logger LOG = LoggerFactory.getLogger(TargetUploader.class);
    private static final int SEGMENT_MAX_BYTES = 8 << 20;
    private static final long CHECKPOINT_EVERY_RECORDS = 50_000;

    final int index;
    final ObjectStore target;
    private final Kv kv;
    private final BlockCache cache;
    private final String site;
    private final ExecutorService pool;
    private final Path spoolDir;
    private final byte[] uploadedKey;
    private final byte[] checkpointKey;
    private final byte[] incompleteKey;
    private final ReentrantLock passLock = new ReentrantLock();
    private volatile String lastError;
    private volatile String stopped;
    private volatile String death;
    private final VolumeRecord volume;
    private final List<ObjectStore> peers;
    private volatile boolean verified;
    private volatile CatchUp catchUp;
    private volatile long uploadedBlocks;
    private volatile long uploadedBytes;
    /**
     * Blocks up to this size are uploaded in groups to a store that {@link ObjectStore#putsInGroups};
     * larger ones (a big file's 4 MiB blocks) go up one by one, in parallel, as to S3.
     */
    static final int GROUP_BLOCK_MAX_BYTES = 256 << 10;
    /** Blocks put during the current pass (passes never overlap): {@link PublishCheck} need not look them up. */
    private final java.util.Set<String> uploadedThisPass = new java.util.HashSet<>();

    /** An uploader for a target known to hold this cache's volume and history (tests, tools). */
    TargetUploader(int index, ObjectStore target, Kv kv, BlockCache cache, String site, ExecutorService pool, Path spoolDir) {
        this(index, target, kv, cache, site, pool, null, List.of(), null, spoolDir);
    }

    /**
     * {@code volume}: the record the target must hold (it is written to a target that answers without
     * one), or null to trust the target as it is; {@code peers}: the volume's other targets, to copy
     * history from when this one lacks it; {@code unreachable}: why the target did not answer at mount;
     * {@code spoolDir}: where checkpoints are encoded before their upload.
     */
    TargetUploader(int index, ObjectStore target, Kv kv, BlockCache cache, String site, ExecutorService pool,
                   VolumeRecord volume, List<ObjectStore> peers, String unreachable, Path spoolDir) {
        this.index = index;
        this.target = target;
        this.kv = kv;
        this.cache = cache;
        this.site = site;
        this.pool = pool;
        this.spoolDir = spoolDir;
        this.volume = volume;
        this.peers = List.copyOf(peers);
        this.verified = volume == null;
        this.lastError = unreachable;
        int id = cache.targetId(index);
        this.uploadedKey = ("uploaded." + id).getBytes(StandardCharsets.UTF_8);
        this.checkpointKey = ("checkpoint." + id).getBytes(StandardCharsets.UTF_8);
        this.incompleteKey = TargetIds.incompleteKey(id);
    }

    /** Whether the target's record and history were checked in this mount. */
    boolean verified() {
        return verified;
    }

    /** The copy that is bringing this target up to date, or null. */
    CatchUp catchUp() {
        return catchUp;
    }

    /** The LOCAL key of this target's upload position. */
    byte[] uploadedKey() {
        return uploadedKey.clone();
    }

    long uploadedSeq() {
        return localLong(uploadedKey);
    }

    private long localLong(byte[] key) {
        byte[] v = kv.read(txn -> txn.get(Table.LOCAL, key));
        return v == null ? 0 : Bytes.getLong(v, 0);
    }

    /** Why uploads to this target stopped for good in this mount (a conflicting object), or null. */
    String stopped() {
        return stopped;
    }

    String lastError() {
        return lastError;
    }

    long uploadedBlocks() {
        return uploadedBlocks;
    }

    long uploadedBytes() {
        return uploadedBytes;
    }

    /** Whether this target has every block and journal record committed so far. */
    boolean caughtUp() {
        return cache.pendingCount(index) == 0 && uploadedSeq() >= kv.lastJournalSeq();
    }

    /**
     * One pass. A transient failure is recorded and rethrown so the caller backs off. Passes of one
     * target never overlap (umount's pass on the control thread would otherwise race the background
     * loop's and could move the upload position back past records already trimmed).
     */
    void pass(boolean forceCheckpoint) throws StoreException, BlockUnavailableException {
        passLock.lock();
        try {
            passLocked(forceCheckpoint);
        } finally {
            passLock.unlock();
        }
    }

    private void passLocked(boolean forceCheckpoint) throws StoreException, BlockUnavailableException {
        if (stopped != null) {
            throw new StoreException(stopped);
        }
        try {
            if (!verified) {
                verify();
            }
            upload(forceCheckpoint);
        } catch (TargetConflictException e) {
            stopped = e.getMessage() + "; uploads to " + target.describe() + " are stopped so that nothing is overwritten";
            LOG.error(stopped);
            throw new StoreException(stopped, e);
        }
    }

    private void upload(boolean forceCheckpoint) throws StoreException, BlockUnavailableException {
        long journalUpTo = kv.lastJournalSeq();
        uploadedThisPass.clear();
        uploadPendingBlocks();
        long from = uploadedSeq();
        if (journalUpTo > from) {
            // a returned write is durable only at Kv.sync (group commit): after a power loss LMDB could
            // hand out a sequence number again that a target already holds for another change
            kv.sync();
            uploadJournal(from, journalUpTo);
        }
        long lastCheckpoint = localLong(checkpointKey);
        long upTo = uploadedSeq();
        if (upTo > lastCheckpoint && (forceCheckpoint || upTo - lastCheckpoint >= CHECKPOINT_EVERY_RECORDS)) {
            writeCheckpoint();
        }
        lastError = null;
    }

    void recordFailure(Exception e) {
        lastError = e.getMessage();
    }

    void died(Throwable t) {
        death = "the upload thread for " + target.describe() + " died of " + t + "; remount to resume uploads";
    }

    /** Why this target's upload thread died, or null while it runs. */
    String death() {
        return death;
    }

    private void uploadPendingBlocks() throws StoreException, BlockUnavailableException {
        // batch after batch in hash order; blocks committed meanwhile with a smaller hash are found
        // by a last scan from the first hash, and only an empty one of those ends the pass
        byte[] after = null;
        while (true) {
            List<byte[]> batch = cache.pending(index, 64, after);
            if (batch.isEmpty()) {
                if (after == null) {
                    return;
                }
                after = null;
                continue;
            }
            after = batch.get(batch.size() - 1);
            // the first block, read to choose a group or parallel puts, is not read a second time
            BlockCache.Upload first = null;
            if (target.putsInGroups() && batch.size() > 1) {
                first = cache.readForUpload(batch.get(0));
                if (first.data().length <= GROUP_BLOCK_MAX_BYTES) {
                    uploadGroup(batch, first.data());
                    continue;
                }
            }
            List<Future<Integer>> puts = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                byte[] hash = batch.get(i);
                BlockCache.Upload read = i == 0 ? first : null;
                puts.add(pool.submit(() -> {
                    BlockCache.Upload block = read != null ? read : cache.readForUpload(hash);
                    byte[] data = block.data();
                    if (block.crc32c() != null) {
                        target.putBlock(ObjectKeys.block(Bytes.hex(hash)), data, block.crc32c());
                    } else {
                        target.put(ObjectKeys.block(Bytes.hex(hash)), data);
                    }
                    return data.length;
                }));
            }
            List<byte[]> done = new ArrayList<>();
            Exception failure = null;
            for (int i = 0; i < puts.size(); i++) {
                try {
                    uploadedBytes += puts.get(i).get();
                    uploadedBlocks++;
                    done.add(batch.get(i));
                    uploadedThisPass.add(Bytes.hex(batch.get(i)));
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Error error) {
                        throw error;
                    }
                    failure = failure == null ? (Exception) e.getCause() : failure;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = new StoreException("interrupted");
                }
            }
            if (!done.isEmpty()) {
                cache.uploaded(index, done);
            }
            if (failure instanceof StoreException se) {
                throw se;
            }
            if (failure instanceof BlockUnavailableException be) {
                throw be;
            }
            if (failure != null) {
                throw new StoreException("upload to " + target.describe() + " failed: " + failure, failure);
            }
        }
    }

    /**
     * Puts a batch of small blocks with one {@link ObjectStore#putAll} (a local directory makes the
     * group durable at once rather than block by block, which cost two disk flushes per 4 KiB file);
     * a large block among them is put on its own, so the group holds at most
     * {@code batch.size() * GROUP_BLOCK_MAX_BYTES} in memory. They count as uploaded only once all
     * are durable.
     */
    private void uploadGroup(List<byte[]> batch, byte[] first) throws StoreException, BlockUnavailableException {
        List<String> keys = new ArrayList<>(batch.size());
        List<byte[]> data = new ArrayList<>(batch.size());
        long bytes = 0;
        for (int i = 0; i < batch.size(); i++) {
            byte[] d = i == 0 ? first : cache.readLocal(batch.get(i));
            String key = ObjectKeys.block(Bytes.hex(batch.get(i)));
            if (d.length > GROUP_BLOCK_MAX_BYTES) {
                target.put(key, d);
            } else {
                keys.add(key);
                data.add(d);
            }
            bytes += d.length;
        }
        target.putAll(keys, data);
        cache.uploaded(index, batch);
        uploadedBytes += bytes;
        uploadedBlocks += batch.size();
        for (byte[] hash : batch) {
            uploadedThisPass.add(Bytes.hex(hash));
        }
    }

    private void uploadJournal(long after, long upTo) throws StoreException {
        long next = after + 1;
        while (next <= upTo) {
            List<SegmentCodec.Entry> entries = new ArrayList<>();
            long[] bytes = {0};
            long start = next;
            kv.read(txn -> {
                txn.scan(Table.JOURNAL, new byte[0], Bytes.longKey(start), (k, v) -> {
                    long seq = k.getLong(k.position());
                    if (seq > upTo) {
                        return false;
                    }
                    byte[] rec = Bytes.toArray(v);
                    entries.add(new SegmentCodec.Entry(seq, rec));
                    bytes[0] += rec.length + 12;
                    return bytes[0] < SEGMENT_MAX_BYTES;
                });
                return null;
            });
            if (entries.isEmpty() || entries.get(0).seq() != start) {
                throw new StoreException("local journal is missing record " + start
                        + " (it was trimmed before reaching " + target.describe() + ")");
            }
            long last = entries.get(entries.size() - 1).seq();
            int restored = PublishCheck.ensureBlocks(target, cache::readLocal, entries, uploadedThisPass);
            if (restored > 0) {
                LOG.warn("{} block(s) named by journal records {}-{} were missing from {} (collected by gc?) and were put back",
                        restored, start, last, target.describe());
            }
            publish(ObjectKeys.journalSegment(site, start, last), SegmentCodec.encodeSegment(entries));
            advanceUploaded(last);
            next = last + 1;
        }
    }

    /**
     * Creates a journal or checkpoint object that must never be replaced. The same bytes already there
     * are a retry whose reply was lost; different bytes mean a second writer (another mount of this
     * volume, or a target that belongs to another history): the target is stopped, loudly, rather
     * than forked.
     */
    private void publish(String key, byte[] data) throws StoreException {
        try {
            target.create(key, data);
        } catch (ObjectExistsException e) {
            if (!sameContent(key, target.get(key), data)) {
                throw new TargetConflictException(key + " in " + target.describe() + " holds different content written by "
                        + "another writer (is the volume mounted elsewhere, or was this target written from another cache directory?)");
            }
        }
    }

    /**
     * Checks the target before the first upload of this mount: it must hold this volume's record (a
     * target that answers without one gets it), no journal this cache does not know, and every record
     * the local journal no longer has (else that history is copied from the most advanced peer).
     */
    private void verify() throws StoreException {
        boolean fresh = false;
        byte[] raw;
        try {
            raw = target.get(ObjectKeys.VOLUME);
        } catch (ObjectNotFoundException e) {
            raw = null;
        }
        if (raw == null) {
            try {
                target.create(ObjectKeys.VOLUME, volume.encode());
                fresh = true;
                LOG.info("{} holds no volume yet; it joins volume {} ({}) and is filled from the other targets",
                        target.describe(), volume.name(), volume.uuid());
            } catch (ObjectExistsException e) {
                raw = target.get(ObjectKeys.VOLUME);
            }
        }
        if (raw != null) {
            checkSameVolume(target, raw);
        }
        long real = Recovery.lastSeq(target, site);
        long last = kv.lastJournalSeq();
        if (real > last) {
            throw new TargetConflictException(target.describe() + " holds journal records of site " + site + " up to " + real
                    + ", but this cache directory only up to " + last + " (the volume was written from another cache "
                    + "directory since; mount with an empty --cache-dir)");
        }
        byte[] before = kv.read(txn -> txn.get(Table.LOCAL, uploadedKey));
        boolean lost = before != null && real < Bytes.getLong(before, 0);
        boolean incomplete = kv.read(txn -> txn.contains(Table.LOCAL, incompleteKey));
        long floor = kv.read(this::firstLocalRecord);
        boolean trimmed = real + 1 < floor && real < last;
        long holds = real;
        if (fresh || lost || incomplete || trimmed) {
            // its upload queue cannot be trusted, and blocks already clean here live only in the other targets
            cache.pendAllDirty(index);
            CatchUp copy = mostAdvancedPeer(real);
            if (copy == null) {
                throw new StoreUnavailableException(target.describe() + " lacks part of the volume (it holds journal records up to "
                        + real + " of " + last + ") and no other target holding them answers; retrying", null);
            }
            catchUp = copy;
            LOG.info("catching up {} (journal records up to {}) from {}", target.describe(), real, copy.source());
            try {
                holds = copy.run(real);
            } finally {
                catchUp = null;
            }
            LOG.info("{} caught up from {}: {} object(s) copied, journal records up to {}", target.describe(), copy.source(),
                    copy.copied(), holds);
        }
        long position = holds;
        String gap = kv.write(txn -> {
            long first = firstLocalRecord(txn);
            if (position + 1 < first && position < last) {
                return target.describe() + " holds journal records up to " + position + ", and records " + (position + 1)
                        + " to " + (first - 1) + " are neither in the local journal nor in an answering target; retrying";
            }
            // the one place a position may move back: the target holds less than this cache believed
            txn.put(Table.LOCAL, uploadedKey, Bytes.longKey(position));
            txn.delete(Table.LOCAL, incompleteKey);
            return null;
        });
        if (gap != null) {
            throw new StoreUnavailableException(gap, null);
        }
        verified = true;
        lastError = null;
    }

    /** A copy from the answering peer of this volume with the most journal records, if it has at least {@code seq}. */
    private CatchUp mostAdvancedPeer(long seq) {
        CatchUp best = null;
        long most = seq - 1;
        for (ObjectStore peer : peers) {
            try {
                checkSameVolume(peer, peer.get(ObjectKeys.VOLUME));
                long theirs = Recovery.lastSeq(peer, site);
                if (theirs > most) {
                    most = theirs;
                    best = new CatchUp(peer, target, site);
                }
            } catch (StoreException e) {
                LOG.debug("{} cannot be a source for {}: {}", peer.describe(), target.describe(), e.getMessage());
            }
        }
        return best;
    }

    private void checkSameVolume(ObjectStore t, byte[] raw) throws StoreException {
        VolumeRecord theirs;
        try {
            theirs = VolumeRecord.decode(raw, t.describe());
        } catch (IllegalArgumentException e) {
            throw new TargetConflictException(e.getMessage());
        }
        if (!theirs.uuid().equals(volume.uuid())) {
            throw new TargetConflictException(t.describe() + " holds another volume, \"" + theirs.name() + "\" ("
                    + theirs.uuid() + "), not \"" + volume.name() + "\" (" + volume.uuid() + ")");
        }
    }

    /** The first record in the local journal, or the next to be written when it is empty. */
    private long firstLocalRecord(KvTxn txn) {
        long[] first = {kv.lastJournalSeq() + 1};
        txn.scan(Table.JOURNAL, new byte[0], (k, v) -> {
            first[0] = k.getLong(k.position());
            return false;
        });
        return first[0];
    }

    /**
     * Whether an object already at {@code key} says what {@code data} says. A checkpoint carries the
     * time it was taken, so two of one journal position (say, after a restore into a new cache
     * directory) differ only there.
     */
    static boolean sameContent(String key, byte[] existing, byte[] data) {
        if (!key.startsWith("checkpoint/")) {
            return Arrays.equals(existing, data);
        }
        // magic (4) and position (8), then the time (8), then the entries (CheckpointStream)
        int time = SegmentCodec.CHECKPOINT_MAGIC.length + 8;
        return existing.length == data.length && existing.length >= time + 8
                && Arrays.equals(existing, 0, time, data, 0, time)
                && Arrays.equals(existing, time + 8, existing.length, data, time + 8, data.length);
    }

    /** Moves the upload position to {@code seq} unless it is already further. */
    private void advanceUploaded(long seq) {
        kv.writeVoid(txn -> {
            byte[] v = txn.get(Table.LOCAL, uploadedKey);
            if (v == null || Bytes.getLong(v, 0) < seq) {
                txn.put(Table.LOCAL, uploadedKey, Bytes.longKey(seq));
            }
        });
    }

    /**
     * Writes a checkpoint of the namespace as of the uploaded journal position, if it is consistent.
     * The checkpoint is encoded into a spool file in the cache directory and uploaded from there:
     * a volume of millions of entries never sits in the heap (see {@link CheckpointStream}).
     * Synchronized: a flush runs passes beside the upload thread, and both use the one spool file.
     *
     * <p>A checkpoint already at this position is kept: it is a function of the journal up to its
     * position, and every segment of that journal was created conditionally and compared byte for
     * byte, so it describes the same namespace (only its timestamp may differ).
     */
    private synchronized void writeCheckpoint() throws StoreException {
        Path file = spoolDir.resolve("checkpoint-" + index + ".spool");
        try {
            long[] entries = {0};
            long seq = kv.read(txn -> {
                long s = Bytes.getLong(txn.get(Table.LOCAL, "journal.next".getBytes(StandardCharsets.UTF_8)), 0) - 1;
                try {
                    entries[0] = CheckpointStream.write(txn, s, System.currentTimeMillis(), file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return s;
            });
            if (seq != uploadedSeq() || cache.pendingCount(index) != 0) {
                return;
            }
            String key = ObjectKeys.checkpoint(site, seq);
            if (!target.exists(key)) {
                target.putFile(key, file);
            }
            kv.writeVoid(txn -> txn.put(Table.LOCAL, checkpointKey, Bytes.longKey(seq)));
            pruneCheckpoints();
            LOG.info("checkpoint {} ({} entries, {} bytes) written to {}", seq, entries[0], Files.size(file), target.describe());
        } catch (IOException | UncheckedIOException e) {
            throw new StoreException("cannot write the checkpoint spool file " + file + " (check free space in the cache directory): "
                    + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debug("removing {}: {}", file, e.toString());
            }
        }
    }

    /** Keeps the two newest checkpoints; journal segments stay as the full history. */
    private void pruneCheckpoints() throws StoreException {
        List<String> all = target.list(ObjectKeys.checkpointPrefix(site));
        for (int i = 0; i + 2 < all.size(); i++) {
            target.delete(all.get(i));
        }
    }

    static long backoffMillis(int failures) {
        long base = Math.min(30_000, 500L << Math.min(failures, 6));
        return base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }
}
