package io.stratafs.writeback;

import io.stratafs.cache.BlockCache;
import io.stratafs.config.VolumeRecord;
import io.stratafs.meta.Bytes;
import io.stratafs.meta.JournalCodec;
import io.stratafs.meta.Kv;
import io.stratafs.meta.KvWriteTxn;
import io.stratafs.meta.Table;
import io.stratafs.store.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background flusher: one thread per target runs {@link TargetUploader} passes; after each pass
 * the local journal is trimmed to what every target holds. The queue is LMDB itself (PENDING and
 * JOURNAL tables), so it survives restarts and uploads resume by themselves.
 */
public final class WriteBack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteBack.class);
    /**
     * Pause after every pass, idle or not. A pass costs a few LMDB commits and store fsyncs whatever
     * it carries; without the pause a stream of small files would pay them per file, contending with
     * the writers' own commits. A flush (umount) ends the pause at once.
     */
    private static final long PASS_INTERVAL_MS = 200;

    private final Kv kv;
    private final List<TargetUploader> uploaders = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final ExecutorService pool;
    private final Object signal = new Object();
    private volatile boolean running = true;
    private volatile boolean checkpointRequested;
    private long wakeups;

    /** Write-back to targets known to hold this cache's volume and history (tests, tools). */
    public WriteBack(Kv kv, BlockCache cache, String site, int uploadConcurrency, Path spoolDir) {
        this(kv, cache, site, uploadConcurrency, null, Collections.nCopies(cache.targets().size(), null), spoolDir);
    }

    /**
     * Write-back for a mount: each target is checked against {@code volume} before its first upload
     * and caught up from the others when it lacks history; {@code unreachable} holds, per target, why
     * it did not answer at mount time (null if it did), shown in status until it answers; {@code spoolDir} (the cache directory) holds checkpoints
     * while they are encoded and uploaded.
     */
    public WriteBack(Kv kv, BlockCache cache, String site, int uploadConcurrency, VolumeRecord volume,
                     List<String> unreachable, Path spoolDir) {
        this.kv = kv;
        this.pool = Executors.newFixedThreadPool(Math.max(1, uploadConcurrency * cache.targets().size()), r -> {
            Thread t = new Thread(r, "stratafs-upload");
            t.setDaemon(true);
            return t;
        });
        List<ObjectStore> targets = cache.targets();
        for (int i = 0; i < targets.size(); i++) {
            List<ObjectStore> peers = new ArrayList<>(targets);
            peers.remove(i);
            uploaders.add(new TargetUploader(i, targets.get(i), kv, cache, site, pool, volume, peers, unreachable.get(i), spoolDir));
        }
    }

    public void start() {
        for (TargetUploader u : uploaders) {
            Thread t = new Thread(() -> loop(u), "stratafs-writeback-" + u.index);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /**
     * Runs passes until closed. A failure is retried with backoff; anything else that escapes (an
     * Error such as OutOfMemoryError) ends the thread, and then the target is reported dead in the
     * log, in status and by every flush, rather than looking healthy while nothing uploads.
     */
    private void loop(TargetUploader u) {
        try {
            passUntilClosed(u);
        } catch (Throwable t) {
            u.died(t);
            LOG.error("the upload thread for {} died; nothing more reaches that target until the volume is mounted again: {}",
                    u.target.describe(), t.toString(), t);
            wake();
        }
    }

    private void passUntilClosed(TargetUploader u) {
        int failures = 0;
        long seen = -1;
        while (running) {
            try {
                u.pass(checkpointRequested);
                if (failures > 0) {
                    LOG.info("target {} is reachable again; uploads resumed", u.target.describe());
                }
                failures = 0;
                trimJournal();
            } catch (Exception e) {
                u.recordFailure(e);
                if (failures++ == 0) {
                    LOG.warn("uploads to {} failed, retrying with backoff: {}", u.target.describe(), e.getMessage());
                }
                waitForSignal(TargetUploader.backoffMillis(failures), -1);
                continue;
            }
            seen = waitForSignal(PASS_INTERVAL_MS, seen);
        }
    }

    /** Sentences for status and the log: one per upload thread that died. */
    public List<String> problems() {
        List<String> out = new ArrayList<>();
        for (TargetUploader u : uploaders) {
            if (u.death() != null) {
                out.add(u.death());
            }
        }
        return out;
    }

    /** Waits until woken or the timeout passes; returns the wake-up count seen. */
    private long waitForSignal(long millis, long seen) {
        synchronized (signal) {
            if (seen == wakeups || seen < 0) {
                try {
                    signal.wait(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return wakeups;
        }
    }

    /** Asks the uploaders to look for work now (after a commit, before a flush). */
    public void wake() {
        synchronized (signal) {
            wakeups++;
            signal.notifyAll();
        }
    }

    private void trimJournal() {
        List<byte[]> positions = new ArrayList<>();
        for (TargetUploader u : uploaders) {
            positions.add(u.uploadedKey());
        }
        trimJournal(kv, positions);
    }

    /**
     * Deletes local journal records every target holds (at most 10,000 per call). The positions are
     * read in the deleting transaction, so a position a target's check moves back in the meantime is
     * respected.
     */
    static void trimJournal(Kv kv, List<byte[]> positionKeys) {
        kv.writeVoid(txn -> {
            long upTo = Long.MAX_VALUE;
            for (byte[] key : positionKeys) {
                byte[] v = txn.get(Table.LOCAL, key);
                upTo = Math.min(upTo, v == null ? 0 : Bytes.getLong(v, 0));
            }
            deleteJournal(txn, upTo);
        });
    }

    private static void deleteJournal(KvWriteTxn txn, long upTo) {
        List<byte[]> doomed = new ArrayList<>();
        txn.scan(Table.JOURNAL, new byte[0], (k, v) -> {
            if (k.getLong(k.position()) > upTo || doomed.size() >= 10_000) {
                return false;
            }
            doomed.add(Bytes.toArray(k));
            return true;
        });
        for (byte[] k : doomed) {
            txn.delete(Table.JOURNAL, k);
        }
    }

    /**
     * Uploads everything committed so far to every target and writes a checkpoint; waits at most
     * {@code timeoutMs}. Returns whether every target caught up.
     */
    public boolean flushAll(long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        checkpointRequested = true;
        try {
            while (System.currentTimeMillis() < deadline) {
                if (!problems().isEmpty()) {
                    return false;
                }
                boolean all = true;
                for (TargetUploader u : uploaders) {
                    if (u.stopped() != null) {
                        return false;
                    }
                    all &= u.caughtUp() && u.lastError() == null;
                }
                if (all) {
                    for (TargetUploader u : uploaders) {
                        try {
                            u.pass(true);
                        } catch (Exception e) {
                            u.recordFailure(e);
                            all = false;
                        }
                    }
                    if (all) {
                        return true;
                    }
                }
                wake();
                synchronized (signal) {
                    signal.wait(100);
                }
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            checkpointRequested = false;
        }
    }

    /**
     * When the oldest committed change that some target does not hold yet was made (wall-clock
     * millis), or -1 when every target holds every change. Blocks go up before the journal records
     * that name them, so the oldest journal record not yet everywhere is the oldest change.
     */
    public long oldestPendingChangeMillis() {
        long upTo = Long.MAX_VALUE;
        for (TargetUploader u : uploaders) {
            upTo = Math.min(upTo, u.uploadedSeq());
        }
        if (upTo >= kv.lastJournalSeq()) {
            return -1;
        }
        byte[] from = Bytes.longKey(upTo + 1);
        long[] time = {-1};
        kv.read(txn -> {
            txn.scan(Table.JOURNAL, new byte[0], from, (k, v) -> {
                time[0] = JournalCodec.timeMillis(v);
                return false;
            });
            return null;
        });
        return time[0];
    }

    /** One line per target for status: health, backlog, totals. */
    public List<TargetStatus> status(BlockCache cache) {
        List<TargetStatus> out = new ArrayList<>();
        long last = kv.lastJournalSeq();
        for (TargetUploader u : uploaders) {
            String error = u.death() != null ? u.death() : u.lastError();
            out.add(new TargetStatus(u.target.describe(), error == null && u.stopped() == null, error,
                    cache.pendingCount(u.index), Math.max(0, last - u.uploadedSeq()), u.uploadedBlocks(), u.uploadedBytes(),
                    state(u)));
        }
        return out;
    }

    /** What status reports for one target. */
    public record TargetStatus(String target, boolean healthy, String lastError, long pendingBlocks,
                               long pendingJournalEntries, long uploadedBlocks, long uploadedBytes, String state) {
    }

    /**
     * Per target, in list order: its upload position and, when its upload queue cannot be trusted
     * to say what it lacks, why (not checked yet in this mount, being caught up, stopped, dead).
     */
    List<TargetPosition> positions() {
        List<TargetPosition> out = new ArrayList<>();
        for (TargetUploader u : uploaders) {
            String notReady = null;
            if (u.death() != null || u.stopped() != null) {
                notReady = "uploads to it have stopped (see stratafs status)";
            } else if (u.catchUp() != null) {
                notReady = "it is being caught up from another target";
            } else if (!u.verified()) {
                notReady = "it has not been checked yet in this mount" + (u.lastError() == null ? "" : " (unreachable)");
            }
            out.add(new TargetPosition(u.target.describe(), u.index, u.uploadedSeq(), notReady));
        }
        return out;
    }

    /** Where one target's uploads stand; {@code index} is its place in the target list. */
    record TargetPosition(String target, int index, long uploadedSeq, String notReady) {
    }

    /** In words: stopped, not checked yet, catching up (with counts), or in step. */
    private static String state(TargetUploader u) {
        CatchUp c = u.catchUp();
        if (u.stopped() != null) {
            return "stopped";
        }
        if (c != null) {
            return "catching up from " + c.source() + ": " + c.copied() + " of " + c.total() + " objects copied";
        }
        if (!u.verified()) {
            return u.lastError() == null ? "checking" : "not checked yet (see lastError)";
        }
        return "ok";
    }

    @Override
    public void close() {
        running = false;
        wake();
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
