package io.stratafs.sync;

import io.stratafs.config.Sizes;
import java.util.function.LongSupplier;

/**
 * A token bucket that paces bytes fetched from peers' storage to a rate, shared by every copy thread
 * ({@code --sync-bandwidth}). The bucket holds at most one second of the rate, so a quiet link may
 * send that much at once; beyond it, each caller reserves its bytes and sleeps until the bucket has
 * earned them. Reservations may run the bucket into debt, which makes the next callers wait in turn:
 * the rate holds over any window longer than a second however many threads share the limit, and no
 * caller is starved by smaller requests. Time and sleeping are injected so tests check the pacing
 * without a real clock.
 */
public final class BandwidthLimit {
    /** Sleeps, or in a test records the sleep and advances a fake clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleepNanos(long nanos) throws InterruptedException;
    }

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** No limit: {@link #acquire} never waits. */
    public static final BandwidthLimit NONE = new BandwidthLimit(0, () -> 0L, nanos -> { });

    private final long bytesPerSecond;
    private final LongSupplier nanoClock;
    private final Sleeper sleeper;
    private double tokens;
    private long refilledAt;

    private BandwidthLimit(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        this.bytesPerSecond = bytesPerSecond;
        this.nanoClock = nanoClock;
        this.sleeper = sleeper;
        this.tokens = bytesPerSecond;
        this.refilledAt = nanoClock.getAsLong();
    }

    /** A limit of {@code bytesPerSecond} ({@code 0}: none) on the real clock. */
    public static BandwidthLimit of(long bytesPerSecond) {
        return of(bytesPerSecond, System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
    }

    /** A limit on an injected clock (nanoseconds) and sleeper. */
    public static BandwidthLimit of(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("a bandwidth limit cannot be negative (" + bytesPerSecond + " bytes/s); use 0 for no limit");
        }
        return bytesPerSecond == 0 ? NONE : new BandwidthLimit(bytesPerSecond, nanoClock, sleeper);
    }

    /**
     * Parses the option's text: bytes per second with an optional K, M, G or T suffix ({@code 10M},
     * {@code 512K}, also {@code 10M/s}); {@code 0} is no limit.
     */
    public static long parse(String option, String text) {
        String t = text == null ? "" : text.trim();
        if (t.toLowerCase(java.util.Locale.ROOT).endsWith("/s")) {
            t = t.substring(0, t.length() - 2);
        }
        try {
            if (t.isEmpty()) {
                throw new IllegalArgumentException("empty");
            }
            return Sizes.parse(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid " + option + " \"" + text
                    + "\": give bytes per second with an optional K, M or G suffix, e.g. 10M; 0 means no limit");
        }
    }

    /** The rate in bytes per second, {@code 0} for none. */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Waits until {@code bytes} may be sent. */
    public void acquire(long bytes) throws InterruptedException {
        if (bytesPerSecond == 0 || bytes <= 0) {
            return;
        }
        long wait = reserve(bytes);
        if (wait > 0) {
            sleeper.sleepNanos(wait);
        }
    }

    /** Takes the bytes from the bucket (into debt if need be) and says how long the caller must wait. */
    private synchronized long reserve(long bytes) {
        long now = nanoClock.getAsLong();
        double earned = (double) Math.max(0, now - refilledAt) * bytesPerSecond / NANOS_PER_SECOND;
        tokens = Math.min(bytesPerSecond, tokens + earned);
        refilledAt = now;
        tokens -= bytes;
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens * NANOS_PER_SECOND / bytesPerSecond);
    }
}
