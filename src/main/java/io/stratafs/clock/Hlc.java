package io.stratafs.clock;

import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., 2014): a 64-bit stamp whose high 48 bits are wall-clock
 * milliseconds and whose low 16 bits count events within one millisecond. Stamps a site issues only
 * grow, even when its wall clock steps back, and every stamp issued after a peer's stamp was observed
 * is larger than it, so the order of stamps respects causality. The stamp orders and names
 * operations; it never decides concurrency (version vectors do).
 */
public final class Hlc {
    public static final int LOGICAL_BITS = 16;
    private static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;

    private final LongSupplier wallMillis;
    private long last;

    /** {@code wallMillis} is the site's wall clock in milliseconds since the epoch. */
    public Hlc(LongSupplier wallMillis) {
        this(wallMillis, 0);
    }

    /** A clock that continues after {@code last}, a stamp this site issued or observed before. */
    public Hlc(LongSupplier wallMillis, long last) {
        this.wallMillis = wallMillis;
        this.last = last;
    }

    /** A new stamp, larger than every stamp issued or observed so far. */
    public synchronized long next() {
        long wall = wallMillis.getAsLong() << LOGICAL_BITS;
        last = wall > last ? wall : increment(last);
        return last;
    }

    /** Takes note of a stamp from another site (or from this site's own published log). */
    public synchronized void observe(long stamp) {
        if (stamp > last) {
            last = stamp;
        }
    }

    /** The largest stamp issued or observed so far. */
    public synchronized long last() {
        return last;
    }

    private static long increment(long stamp) {
        if ((stamp & LOGICAL_MASK) == LOGICAL_MASK) {
            // 65,536 stamps within one millisecond: borrow the next millisecond rather than wrap.
            return (physicalMillis(stamp) + 1) << LOGICAL_BITS;
        }
        return stamp + 1;
    }

    /** The wall-clock part of a stamp, in milliseconds since the epoch. */
    public static long physicalMillis(long stamp) {
        return stamp >>> LOGICAL_BITS;
    }

    /** The counter part of a stamp. */
    public static int logical(long stamp) {
        return (int) (stamp & LOGICAL_MASK);
    }

    /** The first stamp of a wall-clock millisecond. */
    public static long ofMillis(long millis) {
        return millis << LOGICAL_BITS;
    }
}
