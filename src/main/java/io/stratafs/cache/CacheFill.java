package io.stratafs.cache;

import io.stratafs.meta.BlockRef;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies blocks fetched from a target into the LMDB tier on one background thread, off the
 * reader's path: a fill is a write through the write-ahead file and a later LMDB commit (a copy of
 * the block, its CRC32C, the record's encoding and its write(2)), which on a cold read of S3 cost
 * the reader about as much as the fetch. Every block offered was checked against its SHA-256, so a
 * corrupt one never gets here.
 *
 * <p>The queue is short and a fill that finds it full is dropped: a fetched block is clean, held by
 * its target, and is fetched again when it is next needed. So a reader streaming faster than the
 * fills can go is never held back, and the blocks waiting here (a few, 4 MiB each) bound the heap
 * this takes. Fills still go through the normal write path, so they are as crash-safe as any write.
 */
final class CacheFill implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheFill.class);

    /** Stores one block in the LMDB tier, or logs why it could not. */
    @FunctionalInterface
    interface Keeper {
        void keep(BlockRef ref, byte[] data, boolean replaceCorrupt);
    }

    /** A test seam, called on the fill thread before each fill; a no-op in production. */
    interface Hooks {
        Hooks NONE = ref -> {
        };

        void beforeFill(BlockRef ref) throws InterruptedException;
    }

    private record Job(BlockRef ref, byte[] data, boolean replaceCorrupt) {
    }

    private final ArrayBlockingQueue<Job> queue;
    private final Keeper keeper;
    private final Thread thread;
    /** Offers accepted and not yet filled (or failed): zero when the fill thread is idle. */
    private final AtomicLong outstanding = new AtomicLong();
    private volatile Hooks hooks = Hooks.NONE;

    CacheFill(int capacity, Keeper keeper) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the fill queue needs room for at least one block, got " + capacity);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.keeper = keeper;
        this.thread = new Thread(this::run, "stratafs-cache-fill");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void hooks(Hooks h) {
        hooks = h;
    }

    /** Queues a verified block for the LMDB tier; false when the queue is full (the caller counts it). */
    boolean offer(BlockRef ref, byte[] data, boolean replaceCorrupt) {
        outstanding.incrementAndGet();
        if (queue.offer(new Job(ref, data, replaceCorrupt))) {
            return true;
        }
        outstanding.decrementAndGet();
        return false;
    }

    /**
     * Waits until every accepted fill is done, for at most {@code timeoutMs}; returns whether they
     * are. For callers that need the LMDB tier to hold what was read (tests, a clean close).
     */
    boolean awaitIdle(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (outstanding) {
            while (outstanding.get() > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                outstanding.wait(left);
            }
        }
        return true;
    }

    private void run() {
        try {
            while (true) {
                Job job = queue.take();
                try {
                    hooks.beforeFill(job.ref());
                    keeper.keep(job.ref(), job.data(), job.replaceCorrupt());
                } catch (RuntimeException e) {
                    LOG.warn("block {} was read from storage but could not be kept in the local cache: {}", job.ref().hex(), e.toString());
                } finally {
                    synchronized (outstanding) {
                        outstanding.decrementAndGet();
                        outstanding.notifyAll();
                    }
                }
            }
        } catch (InterruptedException e) {
            // closing: the blocks still queued are clean and stay on their targets
        }
    }

    /** Stops the fill thread and waits for the fill in progress, so none writes after the cache's Kv closes. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("the cache fill thread did not stop within 10 s of closing the cache");
        }
    }
}
