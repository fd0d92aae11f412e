package io.stratafs.cache;

import io.stratafs.config.Sizes;
import io.stratafs.meta.BlockRef;
import io.stratafs.meta.DirEntry;
import io.stratafs.meta.Inode;
import io.stratafs.meta.Kv;
import io.stratafs.meta.Namespace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code stratafs warmup}: fetches the blocks of files and trees into the LMDB tier, at most
 * {@code parallel} at a time, straight from the targets (no FUSE round trip, no copy through the
 * RAM tier or the kernel's page cache). Files are taken in walk order and only while their blocks,
 * with those of the files before them, fit in the cache beside its dirty data: the next file that
 * would make the cache evict what this warmup fetched stops it, with the reason.
 */
public final class Warmup {
    private static final int MAX_FAILURES_LISTED = 20;

    private final Kv kv;
    private final BlockCache cache;
    private final Map<String, Long> roots;
    private final int parallel;
    private final Executor fetchers;
    private final AtomicLong filesTotal = new AtomicLong();
    private final AtomicLong bytesTotal = new AtomicLong();
    private final AtomicLong filesDone = new AtomicLong();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong fetchedBytes = new AtomicLong();
    /** Bytes of blocks now in the cache, fetched or found there, for a progress bar that moves within large files. */
    private final AtomicLong blockBytesDone = new AtomicLong();
    private final AtomicLong filesFailed = new AtomicLong();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private volatile boolean scanning = true;
    private volatile boolean done;
    private volatile String stopped;
    private volatile String stoppedBefore;
    private final long startNanos = System.nanoTime();
    private volatile long endNanos;

    /**
     * {@code roots}: display path → inode of each file or directory to warm; {@code fetchers} runs
     * the fetches and must have at least {@code parallel} threads.
     */
    public Warmup(Kv kv, BlockCache cache, Map<String, Long> roots, int parallel, Executor fetchers) {
        if (parallel < 1) {
            throw new IllegalArgumentException("warmup needs at least one fetch at a time, got " + parallel);
        }
        this.kv = kv;
        this.cache = cache;
        this.roots = new LinkedHashMap<>(roots);
        this.parallel = parallel;
        this.fetchers = fetchers;
    }

    private record FileToWarm(String path, long ino, long size) {
    }

    /** Walks, then fetches; returns when every fetch started has ended. */
    public void run() {
        try {
            List<FileToWarm> files = walk();
            scanning = false;
            fetch(files);
        } finally {
            scanning = false;
            endNanos = System.nanoTime();
            done = true;
        }
    }

    /** Asks a running warmup to start no more fetches. */
    public void cancel() {
        cancelled.set(true);
    }

    private List<FileToWarm> walk() {
        List<FileToWarm> files = new ArrayList<>();
        Deque<Map.Entry<String, Long>> todo = new ArrayDeque<>();
        List<Map.Entry<String, Long>> start = new ArrayList<>(roots.entrySet());
        for (int i = start.size() - 1; i >= 0; i--) {
            todo.push(start.get(i));
        }
        while (!todo.isEmpty() && !cancelled.get()) {
            Map.Entry<String, Long> e = todo.pop();
            Inode inode = kv.read(txn -> Namespace.inode(txn, e.getValue()));
            if (inode == null) {
                continue;
            }
            if (inode.isRegular()) {
                files.add(new FileToWarm(e.getKey(), inode.ino(), inode.size()));
                filesTotal.incrementAndGet();
                bytesTotal.addAndGet(inode.size());
            } else if (inode.isDir()) {
                List<DirEntry> children = children(inode.ino());
                for (int i = children.size() - 1; i >= 0; i--) {
                    DirEntry c = children.get(i);
                    todo.push(Map.entry((e.getKey().equals("/") ? "" : e.getKey()) + "/" + c.name(), c.ino()));
                }
            }
        }
        return files;
    }

    private List<DirEntry> children(long dir) {
        List<DirEntry> all = new ArrayList<>();
        String after = null;
        while (true) {
            String from = after;
            List<DirEntry> batch = kv.read(txn -> Namespace.list(txn, dir, from, 1000));
            all.addAll(batch);
            if (batch.size() < 1000) {
                return all;
            }
            after = batch.get(batch.size() - 1).name();
        }
    }

    private void fetch(List<FileToWarm> files) {
        long budget = cache.capacityBytes() - cache.dirtyBytes() - cache.capacityBytes() / 64;
        Set<String> warmSet = new HashSet<>();
        long warmBytes = 0;
        Semaphore slots = new Semaphore(parallel);
        try {
            for (FileToWarm f : files) {
                if (cancelled.get()) {
                    stopped = "cancelled";
                    break;
                }
                List<BlockRef> refs = new ArrayList<>();
                kv.read(txn -> {
                    Namespace.blocks(txn, f.ino(), 0, Long.MAX_VALUE, (i, ref) -> refs.add(ref));
                    return null;
                });
                long more = 0;
                for (BlockRef r : refs) {
                    if (!warmSet.contains(r.hex())) {
                        more += cache.footprint(r.length());
                    }
                }
                if (warmBytes + more > budget) {
                    stoppedBefore = f.path();
                    stopped = "with it the files warmed would take " + Sizes.human(warmBytes + more)
                            + " of cache, more than the " + Sizes.human(Math.max(0, budget))
                            + " free beside dirty data, and evict what this warmup fetched (raise --cache-size to warm more)";
                    break;
                }
                for (BlockRef r : refs) {
                    warmSet.add(r.hex());
                }
                warmBytes += more;
                start(f, refs, slots);
            }
            slots.acquire(parallel);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = "interrupted";
        }
    }

    private void start(FileToWarm f, List<BlockRef> refs, Semaphore slots) throws InterruptedException {
        if (refs.isEmpty()) {
            fileDone(f, false);
            return;
        }
        AtomicInteger left = new AtomicInteger(refs.size());
        AtomicBoolean failed = new AtomicBoolean();
        for (BlockRef ref : refs) {
            slots.acquire();
            fetchers.execute(() -> {
                try {
                    fetchedBytes.addAndGet(cache.warm(ref));
                    blockBytesDone.addAndGet(ref.length());
                } catch (BlockUnavailableException | RuntimeException e) {
                    if (failed.compareAndSet(false, true) && failures.size() < MAX_FAILURES_LISTED) {
                        failures.add(f.path() + ": " + e.getMessage());
                    }
                } finally {
                    // counted before the slot is given back: the run ends once it holds every slot
                    if (left.decrementAndGet() == 0) {
                        fileDone(f, failed.get());
                    }
                    slots.release();
                }
            });
        }
    }

    private void fileDone(FileToWarm f, boolean failed) {
        if (failed) {
            filesFailed.incrementAndGet();
        } else {
            filesDone.incrementAndGet();
            bytesDone.addAndGet(f.size());
        }
    }

    /**
     * Where a warmup stands; {@code stopped} says why it ended early (null if it did not), and
     * {@code stoppedBefore} names the first file it left out when the cache size stopped it.
     */
    public record Progress(boolean scanning, boolean done, long filesTotal, long bytesTotal, long filesDone, long bytesDone,
                           long blockBytesDone, long fetchedBytes, long filesFailed, List<String> failures, String stopped, String stoppedBefore,
                           double seconds) {
    }

    public Progress progress() {
        long end = done ? endNanos : System.nanoTime();
        return new Progress(scanning, done, filesTotal.get(), bytesTotal.get(), filesDone.get(), bytesDone.get(),
                blockBytesDone.get(), fetchedBytes.get(), filesFailed.get(), List.copyOf(failures), stopped, stoppedBefore,
                (end - startNanos) / 1e9);
    }
}
