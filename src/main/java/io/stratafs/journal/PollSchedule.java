package io.stratafs.journal;

import java.util.function.LongSupplier;

/**
 * When to look at one peer's head again. While the peer (or this site) is active, every
 * {@link #FAST_MILLIS}; once it is quiet, the interval grows with the quiet time (a
 * {@link #QUIET_RATIO}th of it) up to {@link #MAX_MILLIS}; any activity or a direct nudge from the
 * peer brings it back at once. Pure logic on an injected clock; the caller sleeps.
 *
 * <p>Why these figures: 250 ms keeps a busy peer's propagation well inside the 2 s p99 target
 * (poll wait + one GET of the head + one of the segment). Growing with the quiet time means a
 * peer that has been quiet for a few seconds is not polled four times a second for nothing. The
 * cap of 1 s (reached after 20 s of quiet) bounds the wait for the first change after a long pause
 * when no nudge arrives (a peer that cannot reach this site directly) to 1 s plus two GETs, inside
 * the 2 s p99 target with default settings; a cap of 10 s would miss it for every first change
 * after a pause. The price: a long-idle peer costs one small GET a second, 2,592,000 a month, about
 * 1.04 USD per peer per month at 0.4 USD per million GETs ({@link PollingCost}); a site that wants
 * it cheaper can take a larger cap through the four-argument constructor.
 */
public final class PollSchedule {
    public static final long FAST_MILLIS = 250;
    public static final long MAX_MILLIS = 1_000;
    public static final int QUIET_RATIO = 20;

    private final LongSupplier nowMillis;
    private final long fastMillis;
    private final long maxMillis;
    private final int quietRatio;
    private long lastActivity;
    private long dueAt;

    /** The default schedule; the first poll is due at once. */
    public PollSchedule(LongSupplier nowMillis) {
        this(nowMillis, FAST_MILLIS, MAX_MILLIS, QUIET_RATIO);
    }

    public PollSchedule(LongSupplier nowMillis, long fastMillis, long maxMillis, int quietRatio) {
        if (fastMillis < 1 || maxMillis < fastMillis || quietRatio < 1) {
            throw new IllegalArgumentException("a poll schedule needs 1 ms <= fast (" + fastMillis + " ms) <= max ("
                    + maxMillis + " ms) and a quiet ratio of at least 1 (" + quietRatio + ")");
        }
        this.nowMillis = nowMillis;
        this.fastMillis = fastMillis;
        this.maxMillis = maxMillis;
        this.quietRatio = quietRatio;
        this.lastActivity = nowMillis.getAsLong();
        this.dueAt = lastActivity;
    }

    /** A poll just ended; {@code moved}: it found the peer's log had grown. */
    public synchronized void polled(boolean moved) {
        long now = nowMillis.getAsLong();
        if (moved) {
            lastActivity = now;
        }
        dueAt = now + interval(now);
    }

    /** Something happened here or at the peer (a local change, an applied batch): poll fast from now on. */
    public synchronized void activity() {
        long now = nowMillis.getAsLong();
        lastActivity = now;
        dueAt = Math.min(dueAt, now + fastMillis);
    }

    /** The peer said directly that its log grew: poll now. */
    public synchronized void nudged() {
        lastActivity = nowMillis.getAsLong();
        dueAt = lastActivity;
    }

    /** How long to wait before the next poll (0: due now). */
    public synchronized long delayMillis() {
        return Math.max(0, dueAt - nowMillis.getAsLong());
    }

    private long interval(long now) {
        long quiet = now - lastActivity;
        return Math.min(maxMillis, Math.max(fastMillis, quiet / quietRatio));
    }
}
