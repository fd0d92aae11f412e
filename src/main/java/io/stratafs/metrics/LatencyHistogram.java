package io.stratafs.metrics;

import java.util.concurrent.atomic.LongAdder;

/**
 * Durations in fixed buckets, recorded with a handful of comparisons and two striped adds so that it
 * can sit on every FUSE callback. The bounds run from 25 µs (a cached stat) to 10 s (a stalled
 * upload); anything slower lands in the +Inf bucket.
 */
public final class LatencyHistogram {
    /** Upper bounds in seconds, as Prometheus' {@code le} labels. */
    public static final double[] BOUNDS = {
        0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final long[] BOUND_NANOS = new long[BOUNDS.length];

    static {
        for (int i = 0; i < BOUNDS.length; i++) {
            BOUND_NANOS[i] = Math.round(BOUNDS[i] * 1e9);
        }
    }

    /** Per bucket, not cumulative; the last is +Inf. */
    private final LongAdder[] counts = new LongAdder[BOUNDS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void observeNanos(long nanos) {
        int lo = 0;
        int hi = BOUND_NANOS.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (nanos <= BOUND_NANOS[mid]) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        counts[lo].increment();
        sumNanos.add(nanos);
    }

    /** Counts per bucket (not cumulative), the last being +Inf. */
    public long[] bucketCounts() {
        long[] out = new long[counts.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = counts[i].sum();
        }
        return out;
    }

    public long count() {
        long n = 0;
        for (LongAdder c : counts) {
            n += c.sum();
        }
        return n;
    }

    public double sumSeconds() {
        return sumNanos.sum() / 1e9;
    }
}
