package io.stratafs.sync;

import io.stratafs.cache.Sha256;
import io.stratafs.meta.BlockRef;
import io.stratafs.store.ObjectKeys;
import io.stratafs.store.ObjectNotFoundException;
import io.stratafs.store.ObjectStore;
import io.stratafs.store.StoreException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes every one of a site's own targets hold every block its files name, copying the ones it lacks
 * from other stores (peers' storage), so the site can read every file from its own storage even when
 * the peer is gone.
 *
 * <p>Presence: blocks are grouped by their fan-out directory ({@code blocks/ab/}). A directory with
 * at least {@value #LIST_AT_LEAST} wanted blocks is listed once, otherwise each block gets one
 * existence check (a HEAD on S3). Listing one fan-out directory is one request up to about 256,000
 * blocks in the target (1,000 keys per S3 page), but AWS prices a LIST like a PUT, 12.5 HEADs, and the
 * answer grows with the target, not with what we want; from about 13 wanted blocks in a directory the
 * listing is cheaper in money and in round trips, and 16 leaves a margin for larger targets. So a sync
 * round that wants a few new blocks pays a few HEADs, while a catch-up that wants thousands pays at
 * most 256 listings instead of thousands of HEADs. Listing the whole {@code blocks/} prefix at once
 * would hold every key of a large target in memory; one directory holds 1/256 of it. A present block
 * is trusted (fsck verifies content), and a corrupt copy in an own target is left to the read path's
 * repair.
 *
 * <p>Memory: each copy in flight holds one whole block, so at most {@code parallelism} blocks.
 *
 * <p>Copy: a missing block is read from the first store that has a good copy: an own target that
 * already holds it, then the sources in the caller's order, each in {@code blocks/} and then in
 * {@code trash/} (gc's holding area, see {@code store.TrashedBlocks}; a trashed copy is not restored
 * in the peer's storage, which this site may only read). Every copy is checked against its SHA-256 and
 * length; a corrupt or unreadable copy falls through to the next. The block is written with the normal
 * content-addressed put, so a copy that is repeated (after a crash, or by two copiers) is harmless. At
 * most {@code parallelism} checks or copies run at once, on the injected executor; every byte read is
 * paced by one shared {@link BandwidthLimit}.
 *
 * <p>Resuming: {@link #copy} reports one {@link Outcome} per wanted block, in the calling thread. The
 * caller keeps the wanted set durably and removes a block on {@link Result#COPIED} or
 * {@link Result#PRESENT}; {@link Result#WAITING} (no store has it yet: the peer may not have uploaded
 * it) and {@link Result#FAILED} stay for the next round. A run that is interrupted or killed loses
 * nothing: the next one finds what was already copied present and copies only the rest.
 */
public final class BlockCopier {
    private static final Logger LOG = LoggerFactory.getLogger(BlockCopier.class);

    /** Wanted blocks in one fan-out directory from which listing the directory beats one check per block. */
    public static final int LIST_AT_LEAST = 16;

    /** What became of one wanted block in a run. */
    public enum Result {
        /** It was missing from at least one own target and is now in all of them. */
        COPIED,
        /** Every own target had it already. */
        PRESENT,
        /** No store holds it yet; try again in a later round. */
        WAITING,
        /** Something went wrong (a store failed, every copy was corrupt); {@link Outcome#detail} says what. */
        FAILED
    }

    /** One block's result; {@code detail} names the store it came from, or what went wrong. */
    public record Outcome(BlockRef block, Result result, String detail) {
    }

    /** What one run did. */
    public record Summary(int copied, int present, int waiting, int failed, long bytesCopied) {
    }

    /**
     * Figures for {@code status}: blocks and bytes copied and blocks found present since this copier
     * was built, blocks waiting or failed in the last finished run, and the last error, or null.
     */
    public record Progress(long blocksCopied, long bytesCopied, long blocksPresent, int waiting, int failed, String lastError) {
    }

    private final List<ObjectStore> targets;
    private final Executor executor;
    private final int parallelism;
    private final BandwidthLimit bandwidth;
    private final AtomicLong blocksCopied = new AtomicLong();
    private final AtomicLong bytesCopied = new AtomicLong();
    private final AtomicLong blocksPresent = new AtomicLong();
    private volatile int waiting;
    private volatile int failed;
    private volatile String lastError;

    private BlockCopier(Builder b) {
        this.targets = List.copyOf(b.targets);
        this.executor = b.executor;
        this.parallelism = b.parallelism;
        this.bandwidth = b.bandwidth;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a copier and rejects an incomplete or inconsistent configuration with a sentence. */
    public static final class Builder {
        private List<ObjectStore> targets;
        private Executor executor;
        private int parallelism = 4;
        private BandwidthLimit bandwidth = BandwidthLimit.NONE;

        private Builder() {
        }

        /** The site's own targets: every one of them is made to hold every wanted block. */
        public Builder targets(List<ObjectStore> targets) {
            this.targets = targets;
            return this;
        }

        /** Runs the checks and copies (the daemon's pool; its size should be at least {@code parallelism}). */
        public Builder executor(Executor executor) {
            this.executor = executor;
            return this;
        }

        /** At most this many checks or copies at once (default 4). */
        public Builder parallelism(int parallelism) {
            this.parallelism = parallelism;
            return this;
        }

        /** Paces the bytes read by all copies together (default: no limit). */
        public Builder bandwidth(BandwidthLimit bandwidth) {
            this.bandwidth = bandwidth;
            return this;
        }

        public BlockCopier build() {
            if (targets == null || targets.isEmpty()) {
                throw new IllegalArgumentException("the block copier needs at least one own target to copy into");
            }
            if (targets.stream().anyMatch(Objects::isNull)) {
                throw new IllegalArgumentException("the block copier's own targets contain a null store");
            }
            if (executor == null) {
                throw new IllegalArgumentException("the block copier needs an executor to run its copies on");
            }
            if (parallelism < 1) {
                throw new IllegalArgumentException("the block copier's parallelism must be at least 1, not " + parallelism);
            }
            if (bandwidth == null) {
                throw new IllegalArgumentException("the block copier needs a bandwidth limit (BandwidthLimit.NONE for none)");
            }
            return new BlockCopier(this);
        }
    }

    /**
     * Makes every own target hold every block of {@code wanted}, reading missing ones from
     * {@code sources} (in preference order), and hands {@code sink} one outcome per distinct block,
     * in this thread. Interrupting the calling thread (also from {@code sink}) stops the run: copies
     * in flight finish and are reported, then {@link InterruptedException} is thrown. A {@code sink} that
     * throws ends the run at once with its exception; copies in flight may then still finish. The
     * wanted blocks are held in memory for the run, so a large catch-up is best given in batches (of
     * some thousands: a batch still pays at most one listing per fan-out directory).
     */
    public Summary copy(Collection<BlockRef> wanted, List<ObjectStore> sources, Consumer<Outcome> sink) throws InterruptedException {
        List<ObjectStore> from = List.copyOf(sources);
        Run run = new Run(sink);
        try {
            List<Plan> toCopy = new ArrayList<>();
            runBounded(byFanOut(wanted).values().iterator(), this::checkPresence, plans -> {
                for (Plan p : plans) {
                    if (p.failure != null) {
                        run.report(new Outcome(p.ref, Result.FAILED, p.failure));
                    } else if (p.missingAnywhere()) {
                        toCopy.add(p);
                    } else {
                        run.report(new Outcome(p.ref, Result.PRESENT, "already in every own target"));
                    }
                }
            });
            runBounded(toCopy.iterator(), p -> copyOne(p, from), run::report);
        } finally {
            waiting = run.waiting;
            failed = run.failed;
        }
        return run.summary();
    }

    /** The figures for status. */
    public Progress progress() {
        return new Progress(blocksCopied.get(), bytesCopied.get(), blocksPresent.get(), waiting, failed, lastError);
    }

    /** Counts one run's outcomes; used only by the calling thread. */
    private final class Run {
        private final Consumer<Outcome> sink;
        private int copied;
        private int present;
        private int waiting;
        private int failed;
        private long bytes;

        Run(Consumer<Outcome> sink) {
            this.sink = sink;
        }

        void report(Outcome o) {
            switch (o.result()) {
                case COPIED -> {
                    copied++;
                    bytes += o.block().length();
                    blocksCopied.incrementAndGet();
                    bytesCopied.addAndGet(o.block().length());
                }
                case PRESENT -> {
                    present++;
                    blocksPresent.incrementAndGet();
                }
                case WAITING -> waiting++;
                case FAILED -> {
                    failed++;
                    lastError = o.detail();
                }
            }
            sink.accept(o);
        }

        Summary summary() {
            return new Summary(copied, present, waiting, failed, bytes);
        }
    }

    /** One wanted block and which own targets hold it. */
    private static final class Plan {
        final BlockRef ref;
        final String hex;
        final boolean[] held;
        String failure;

        Plan(BlockRef ref, int targets) {
            this.ref = ref;
            this.hex = ref.hex();
            this.held = new boolean[targets];
        }

        boolean missingAnywhere() {
            for (boolean h : held) {
                if (!h) {
                    return true;
                }
            }
            return false;
        }
    }

    private Map<String, List<Plan>> byFanOut(Collection<BlockRef> wanted) {
        Map<String, BlockRef> distinct = new LinkedHashMap<>();
        for (BlockRef ref : wanted) {
            Objects.requireNonNull(ref, "a wanted block is null");
            distinct.putIfAbsent(ref.hex(), ref);
        }
        Map<String, List<Plan>> groups = new TreeMap<>();
        for (BlockRef ref : distinct.values()) {
            Plan p = new Plan(ref, targets.size());
            groups.computeIfAbsent(fanOutDir(p.hex), k -> new ArrayList<>()).add(p);
        }
        return groups;
    }

    private static String fanOutDir(String hex) {
        String key = ObjectKeys.block(hex);
        return key.substring(0, key.lastIndexOf('/') + 1);
    }

    private List<Plan> checkPresence(List<Plan> group) {
        for (int t = 0; t < targets.size(); t++) {
            ObjectStore target = targets.get(t);
            try {
                if (group.size() >= LIST_AT_LEAST) {
                    Set<String> there = new HashSet<>();
                    for (String key : target.list(fanOutDir(group.get(0).hex))) {
                        there.add(ObjectKeys.blockHex(key));
                    }
                    for (Plan p : group) {
                        p.held[t] = there.contains(p.hex);
                    }
                } else {
                    for (Plan p : group) {
                        p.held[t] = target.exists(ObjectKeys.block(p.hex));
                    }
                }
            } catch (StoreException | RuntimeException e) {
                String why = "cannot tell which blocks " + target.describe() + " holds: " + e.getMessage();
                for (Plan p : group) {
                    p.failure = p.failure == null ? why : p.failure;
                }
            }
        }
        return group;
    }

    private Outcome copyOne(Plan p, List<ObjectStore> sources) {
        List<String> troubles = new ArrayList<>();
        Copy copy;
        try {
            copy = firstGoodCopy(p, sources, troubles);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(p.ref, Result.FAILED, "copying block " + p.hex + " was interrupted");
        }
        if (copy == null) {
            return troubles.isEmpty()
                    ? new Outcome(p.ref, Result.WAITING, "no store holds block " + p.hex + " yet (" + sources.size() + " source(s) checked)")
                    : new Outcome(p.ref, Result.FAILED, "no good copy of block " + p.hex + ": " + String.join("; ", troubles));
        }
        String putFailure = null;
        for (int t = 0; t < targets.size(); t++) {
            if (!p.held[t]) {
                ObjectStore target = targets.get(t);
                try {
                    target.put(ObjectKeys.block(p.hex), copy.data);
                } catch (StoreException | RuntimeException e) {
                    putFailure = "cannot put block " + p.hex + " into " + target.describe() + ": " + e.getMessage();
                }
            }
        }
        return putFailure != null ? new Outcome(p.ref, Result.FAILED, putFailure) : new Outcome(p.ref, Result.COPIED, copy.from);
    }

    private record Copy(byte[] data, String from) {
    }

    /** Own targets that hold the block first (no cross-site traffic), then each source's blocks/ and trash/. */
    private Copy firstGoodCopy(Plan p, List<ObjectStore> sources, List<String> troubles) throws InterruptedException {
        for (int t = 0; t < targets.size(); t++) {
            if (p.held[t]) {
                byte[] data = fetch(targets.get(t), ObjectKeys.block(p.hex), p.ref, troubles);
                if (data != null) {
                    return new Copy(data, targets.get(t).describe());
                }
            }
        }
        for (ObjectStore source : sources) {
            byte[] data = fetch(source, ObjectKeys.block(p.hex), p.ref, troubles);
            if (data != null) {
                return new Copy(data, source.describe());
            }
            data = fetch(source, ObjectKeys.trashedBlock(p.hex), p.ref, troubles);
            if (data != null) {
                return new Copy(data, source.describe() + " (trash)");
            }
        }
        return null;
    }

    /** One copy of the block from {@code store}, or null when it is not there or not good (noted in {@code troubles}). */
    private byte[] fetch(ObjectStore store, String key, BlockRef ref, List<String> troubles) throws InterruptedException {
        byte[] data;
        try {
            data = store.get(key);
        } catch (ObjectNotFoundException e) {
            return null;
        } catch (StoreException | RuntimeException e) {
            troubles.add(store.describe() + " could not be read: " + e.getMessage());
            return null;
        }
        bandwidth.acquire(data.length);
        if (data.length != ref.length() || !Arrays.equals(Sha256.of(data), ref.hash())) {
            String what = "the copy of block " + ref.hex() + " in " + store.describe() + " is corrupt ("
                    + (data.length != ref.length() ? data.length + " bytes, not " + ref.length() : "its SHA-256 does not match") + ")";
            LOG.warn("{}; trying the next copy", what);
            troubles.add(what);
            return null;
        }
        return data;
    }

    /**
     * Runs {@code work} over {@code items} on the executor with at most {@link #parallelism} in flight,
     * handing each result to {@code done} in this thread as it completes. On interruption no new item
     * starts; the ones in flight finish and are handed over before the exception.
     */
    private <T, R> void runBounded(Iterator<T> items, Function<T, R> work, Consumer<R> done) throws InterruptedException {
        CompletionService<R> running = new ExecutorCompletionService<>(executor);
        int inFlight = 0;
        boolean interrupted = Thread.interrupted();
        while (true) {
            while (!interrupted && inFlight < parallelism && items.hasNext()) {
                T item = items.next();
                running.submit(() -> work.apply(item));
                inFlight++;
            }
            if (inFlight == 0) {
                break;
            }
            Future<R> finished;
            try {
                finished = running.take();
            } catch (InterruptedException e) {
                interrupted = true;
                continue;
            }
            inFlight--;
            done.accept(resultOf(finished));
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            throw new InterruptedException("the block copy was interrupted; the blocks not reported are copied by the next run");
        }
    }

    private static <R> R resultOf(Future<R> finished) {
        try {
            return finished.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("a block copy task failed unexpectedly: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            throw new IllegalStateException("a completed task cannot block", e);
        }
    }
}
