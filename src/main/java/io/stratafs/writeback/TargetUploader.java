package io.stratafs.writeback;

import io.stratafs.cache.BlockCache;
import io.stratafs.cache.BlockUnavailableException;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one storage target up to date: first every block pending for it, then the journal records
 * that name them, then (now and then) a checkpoint. The order keeps invariant 4: a target never
 * holds a journal record or checkpoint naming a block it does not hold.
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
    private volatile String lastError;
    private volatile String death;
    private volatile long uploadedBlocks;
    private volatile long uploadedBytes;

    TargetUploader(int index, ObjectStore target, Kv kv, BlockCache cache, String site, ExecutorService pool, Path spoolDir) {
        this.index = index;
        this.target = target;
        this.kv = kv;
        this.cache = cache;
        this.site = site;
        this.pool = pool;
        this.spoolDir = spoolDir;
        this.uploadedKey = ("uploaded." + index).getBytes(StandardCharsets.UTF_8);
        this.checkpointKey = ("checkpoint." + index).getBytes(StandardCharsets.UTF_8);
    }

    long uploadedSeq() {
        return localLong(uploadedKey);
    }

    private long localLong(byte[] key) {
        byte[] v = kv.read(txn -> txn.get(Table.LOCAL, key));
        return v == null ? 0 : Bytes.getLong(v, 0);
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
     * One pass. A transient failure is recorded and rethrown so the caller backs off.
     */
    void pass(boolean forceCheckpoint) throws StoreException, BlockUnavailableException {
        long journalUpTo = kv.lastJournalSeq();
        uploadPendingBlocks();
        long from = uploadedSeq();
        if (journalUpTo > from) {
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
        while (true) {
            List<byte[]> batch = cache.pending(index, 64);
            if (batch.isEmpty()) {
                return;
            }
            List<Future<Integer>> puts = new ArrayList<>();
            for (byte[] hash : batch) {
                puts.add(pool.submit(() -> {
                    byte[] data = cache.readLocal(hash);
                    target.put(ObjectKeys.block(Bytes.hex(hash)), data);
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
            target.put(ObjectKeys.journalSegment(site, start, last), SegmentCodec.encodeSegment(entries));
            kv.writeVoid(txn -> txn.put(Table.LOCAL, uploadedKey, Bytes.longKey(last)));
            next = last + 1;
        }
    }

    /**
     * Writes a checkpoint of the namespace as of the uploaded journal position, if it is consistent.
     * The checkpoint is encoded into a spool file in the cache directory and uploaded from there:
     * a volume of millions of entries never sits in the heap (see {@link CheckpointStream}).
     * Synchronized: a flush runs passes beside the upload thread, and both use the one spool file.
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
            target.putFile(ObjectKeys.checkpoint(site, seq), file);
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
