package io.stratafs.metrics;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A byte count since start and its rate over the last {@link #WINDOW_SECONDS} whole seconds, kept
 * in one bucket per second so that a reading costs nothing on the recording side beyond an add.
 */
public final class RateWindow {
    public static final int WINDOW_SECONDS = 10;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final LongSupplier nanoClock;
    private final long startNanos;
    private final LongAdder total = new LongAdder();
    /** Ring of per-second sums; {@code seconds[i]} says which second {@code sums[i]} belongs to. */
    private final long[] sums = new long[WINDOW_SECONDS + 1];
    private final long[] seconds = new long[WINDOW_SECONDS + 1];

    public RateWindow(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.startNanos = nanoClock.getAsLong();
        java.util.Arrays.fill(seconds, -1);
    }

    public void add(long bytes) {
        total.add(bytes);
        long second = secondNow();
        int slot = (int) (second % sums.length);
        synchronized (this) {
            if (seconds[slot] != second) {
                seconds[slot] = second;
                sums[slot] = 0;
            }
            sums[slot] += bytes;
        }
    }

    public long total() {
        return total.sum();
    }

    /**
     * Bytes per second over the last whole seconds, at most {@link #WINDOW_SECONDS} of them (fewer
     * just after start); the second under way is left out, as it is not over yet.
     */
    public double perSecond() {
        long now = secondNow();
        int span = (int) Math.min(WINDOW_SECONDS, now);
        if (span == 0) {
            return 0;
        }
        long sum = 0;
        synchronized (this) {
            for (int i = 0; i < sums.length; i++) {
                if (seconds[i] >= now - span && seconds[i] < now) {
                    sum += sums[i];
                }
            }
        }
        return (double) sum / span;
    }

    private long secondNow() {
        return (nanoClock.getAsLong() - startNanos) / NANOS_PER_SECOND;
    }
}
