package io.stratafs.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The one set of counters of a mounted volume, since mount: which tier served each block read,
 * bytes moved to and from the targets, errors by kind, and the latencies of FUSE operations and of
 * storage requests. {@code stratafs status} and the Prometheus endpoint both read these, so the two
 * never disagree. Thread-safe; recording is a striped add (and a map lookup for latencies).
 */
public final class VolumeMetrics {
    /** Where a block read by a caller came from. */
    public enum ReadTier {
        RAM("ram"), LOCAL("local"), TARGET("target");

        private final String label;

        ReadTier(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One storage request kind at one target (its description, which carries no secret). */
    public record StoreRequest(String op, String target) {
    }

    private final LongAdder[] reads = new LongAdder[ReadTier.values().length];
    private final LongAdder fillsDropped = new LongAdder();
    private volatile Supplier<FuseReader> fuseReader = () -> FuseReader.NONE;
    private final LongAdder[] errors = new LongAdder[ErrorKind.values().length];
    private final RateWindow uploads;
    private final RateWindow downloads;
    private final Map<String, LatencyHistogram> fuseOperations = new ConcurrentHashMap<>();
    private final Map<StoreRequest, LatencyHistogram> storeRequests = new ConcurrentHashMap<>();

    public VolumeMetrics() {
        this(System::nanoTime);
    }

    public VolumeMetrics(LongSupplier nanoClock) {
        for (int i = 0; i < reads.length; i++) {
            reads[i] = new LongAdder();
        }
        for (int i = 0; i < errors.length; i++) {
            errors[i] = new LongAdder();
        }
        uploads = new RateWindow(nanoClock);
        downloads = new RateWindow(nanoClock);
    }

    public void cacheRead(ReadTier tier) {
        reads[tier.ordinal()].increment();
    }

    public long cacheReads(ReadTier tier) {
        return reads[tier.ordinal()].sum();
    }

    /** A block fetched from a target was not kept in the local cache: its fill queue was full. */
    public void cacheFillDropped() {
        fillsDropped.increment();
    }

    public long cacheFillsDropped() {
        return fillsDropped.sum();
    }

    /** The share of block reads served from RAM or the local cache, or null before the first read. */
    public Double cacheHitRatio() {
        long ram = cacheReads(ReadTier.RAM);
        long local = cacheReads(ReadTier.LOCAL);
        long all = ram + local + cacheReads(ReadTier.TARGET);
        return all == 0 ? null : (double) (ram + local) / all;
    }

    /** Bytes sent to targets (blocks, journal, checkpoints). */
    public RateWindow uploads() {
        return uploads;
    }

    /** Bytes read from targets. */
    public RateWindow downloads() {
        return downloads;
    }

    public void error(ErrorKind kind) {
        errors[kind.ordinal()].increment();
    }

    public long errors(ErrorKind kind) {
        return errors[kind.ordinal()].sum();
    }

    /**
     * How the mount's FUSE requests were read: served by the polling reader itself, handed on to
     * another thread with the reader's part (reads, fsyncs), reader's parts taken over because one
     * request kept the reader too long, and the times the reader slept in the kernel for lack of
     * requests. All zero when the mount serves without a polling reader.
     */
    public record FuseReader(long kept, long handedOn, long relieved, long sleeps) {
        static final FuseReader NONE = new FuseReader(0, 0, 0, 0);
    }

    /** Where {@link #fuseReader} comes from: the mount's request loop, once it runs. */
    public void fuseReaderFrom(Supplier<FuseReader> source) {
        fuseReader = source;
    }

    public FuseReader fuseReader() {
        return fuseReader.get();
    }

    /** The histogram of one FUSE operation, by its callback name ({@code getattr}, {@code write}, ...). */
    public LatencyHistogram fuseOperation(String op) {
        LatencyHistogram h = fuseOperations.get(op);
        return h != null ? h : fuseOperations.computeIfAbsent(op, k -> new LatencyHistogram());
    }

    /** The FUSE operations seen so far, by name. */
    public Map<String, LatencyHistogram> fuseOperations() {
        return new TreeMap<>(fuseOperations);
    }

    public LatencyHistogram storeRequest(String op, String target) {
        return storeRequests.computeIfAbsent(new StoreRequest(op, target), k -> new LatencyHistogram());
    }

    /** The storage requests seen so far. */
    public Map<StoreRequest, LatencyHistogram> storeRequests() {
        return Map.copyOf(storeRequests);
    }
}
